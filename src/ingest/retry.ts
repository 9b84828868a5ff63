import { isRetriable } from "./errors.js";

export interface RetryOptions {
  /** First delay in ms (default 200). */
  readonly initialMs?: number;
  /** Cap on one delay in ms (default 10 000). */
  readonly maxMs?: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /** Give up after this many ms of retrying (default: never; losing data is worse than waiting). */
  readonly deadlineMs?: number;
  /** Aborting stops the waiting and rethrows the last error. */
  readonly signal?: AbortSignal;
  /** Called before each wait, e.g. to log and count the failure. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Which errors to retry (default: the error's `retriable` flag). */
  readonly retriable?: (err: unknown) => boolean;
  /** Source of randomness for jitter, injectable for tests. */
  readonly random?: () => number;
}

/** Capped exponential backoff with full jitter: delay in [d/2, d] where d = min(max, initial * factor^attempt). */
export function backoffDelay(attempt: number, opts: RetryOptions = {}): number {
  const initial = opts.initialMs ?? 200;
  const max = opts.maxMs ?? 10_000;
  const base = Math.min(max, initial * (opts.factor ?? 2) ** attempt);
  const r = (opts.random ?? Math.random)();
  return Math.round(base / 2 + (base / 2) * r);
}

/** Waits `ms`, or less when `signal` aborts: the one abortable wait of the ingest core and the sources. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The one retrier of the ingest core: retries only what says it is retriable. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const started = Date.now();
  const canRetry = opts.retriable ?? isRetriable;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const overDeadline = opts.deadlineMs !== undefined && Date.now() - started >= opts.deadlineMs;
      if (!canRetry(err) || overDeadline || opts.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, opts);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
      if (opts.signal?.aborted) throw err;
    }
  }
}
