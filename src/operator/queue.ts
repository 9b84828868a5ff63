import { backoffDelay, type RetryOptions } from "../ingest/retry.js";

/**
 * The reconcile work queue, with client-go's workqueue semantics: a key queued twice runs
 * once, a key never runs twice at the same time (an add while it runs marks it dirty and it
 * runs again afterwards), up to `concurrency` different keys run at once, failures retry
 * with capped exponential backoff and jitter (the ingest core's one backoff, backoffDelay),
 * and a handler can ask to be run again later. A spec that cannot work is not an error
 * here: the reconciler reports it as a condition and asks for a slow requeue.
 */

/** What a handler returns: nothing (done until the next event or resync) or a delay to run again. */
export interface HandlerResult {
  readonly requeueAfterMs?: number;
}

export type Handler = (key: string) => Promise<HandlerResult | void> | HandlerResult | void;

/** Retry delays of a failing key: the ingest core's backoff (delay in [d/2, d], d = min(maxMs, initialMs * factor^n)). */
export type QueueBackoff = Pick<RetryOptions, "initialMs" | "maxMs" | "factor">;

/** client-go's controller default starts at 5 ms; reconciles hit the apiserver and ClickHouse, so start at 500 ms, cap at 5 min. */
export const defaultBackoff: QueueBackoff = { initialMs: 500, maxMs: 5 * 60_000, factor: 2 };

export interface QueueOptions {
  readonly concurrency: number;
  readonly backoff?: QueueBackoff;
  /** Called after each handler run; errors are passed here, never swallowed. */
  readonly onResult?: (key: string, outcome: QueueOutcome) => void;
  readonly random?: () => number;
}

export type QueueOutcome =
  | { readonly kind: "done"; readonly durationMs: number }
  | { readonly kind: "requeue"; readonly durationMs: number; readonly afterMs: number }
  | { readonly kind: "retry"; readonly durationMs: number; readonly afterMs: number; readonly error: unknown };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private handler: Handler | undefined;
  private stopped = false;

  constructor(private readonly opts: QueueOptions) {}

  /** Keys waiting to run (not counting delayed or running ones). */
  get depth(): number {
    return this.queue.length;
  }

  get running(): number {
    return this.processing.size;
  }

  /** Start running keys with `handler`. Keys added before start wait until then. */
  start(handler: Handler): void {
    this.handler = handler;
    this.stopped = false;
    this.pump();
  }

  /** Stop taking keys; running handlers finish. Delayed keys are dropped. */
  stop(): void {
    this.stopped = true;
    this.handler = undefined;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  add(key: string): void {
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Add `key` after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Forget a key entirely (deleted object): pending delays and its failure count. */
  forget(key: string): void {
    this.failures.delete(key);
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending.timer);
    this.timers.delete(key);
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  async idle(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler || this.stopped) return;
    while (this.processing.size < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      void this.runOne(handler, key);
    }
  }

  private async runOne(handler: Handler, key: string): Promise<void> {
    const t0 = Date.now();
    let outcome: QueueOutcome;
    try {
      const result = await handler(key);
      this.failures.delete(key);
      const after = result?.requeueAfterMs;
      outcome = after !== undefined ? { kind: "requeue", durationMs: Date.now() - t0, afterMs: after } : { kind: "done", durationMs: Date.now() - t0 };
    } catch (error) {
      outcome = this.failed(key, error, Date.now() - t0);
    }
    this.processing.delete(key);
    if (outcome.kind === "requeue" || outcome.kind === "retry") this.addAfter(key, outcome.afterMs);
    if (this.dirty.delete(key)) this.add(key);
    this.opts.onResult?.(key, outcome);
    this.pump();
    this.notifyIdle();
  }

  private failed(key: string, error: unknown, durationMs: number): QueueOutcome {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const backoff = { ...(this.opts.backoff ?? defaultBackoff), ...(this.opts.random ? { random: this.opts.random } : {}) };
    return { kind: "retry", durationMs, afterMs: backoffDelay(n - 1, backoff), error };
  }

  private notifyIdle(): void {
    if (this.queue.length > 0 || this.processing.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
