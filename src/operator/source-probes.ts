import type { Logger } from "pino";
import { ConditionReason, type ClickPipe } from "../api/index.js";
import type { SecretResolver } from "../ingest/secrets.js";
import type { SourceProbeResult } from "../sources/plugin.js";
import { sourcePlugin } from "../sources/registry.js";
import type { TimedProbe } from "./pipe-health.js";

/**
 * The operator's own look at a source, for the pipes whose consumers cannot tell (not
 * inserted yet, or reporting the source failing). Probes run in the background, a few at a
 * time and at most once per interval per pipe, so a reconcile never waits on a source: it
 * uses the latest result, and a finished probe wakes its pipe to be reconciled again.
 */

/** One probe of a pipe's source; undefined when its plugin has none. */
export type ProbeFn = (pipe: ClickPipe, secrets: SecretResolver) => Promise<SourceProbeResult | undefined>;

/** The probe the pipe's source plugin declares, found through the registry. */
export function pluginProbe(timeoutMs: number): ProbeFn {
  return async (pipe, secrets) => {
    const plugin = sourcePlugin(pipe.spec);
    return plugin?.probe ? plugin.probe(pipe, secrets, timeoutMs) : undefined;
  };
}

export interface SourceProbesOptions {
  readonly probe: ProbeFn;
  /** A pipe is probed at most this often (slower than the resync). */
  readonly intervalMs: number;
  readonly concurrency: number;
  /** A probe finished: reconcile the pipe again. */
  readonly onResult: (key: string) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

interface Entry {
  readonly generation: number | undefined;
  readonly result: TimedProbe | undefined;
}

export class SourceProbes {
  private readonly results = new Map<string, Entry>();
  private readonly waiting: { key: string; run: () => Promise<void> }[] = [];
  private readonly pending = new Set<string>();
  private active = 0;

  constructor(private readonly opts: SourceProbesOptions) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * The latest probe of the pipe's current generation, if any. Unless one is under way,
   * starts a new one when the last is older than the interval or than `notBefore` (e.g. the
   * start of a failure streak the consumers reported).
   */
  latest(key: string, pipe: ClickPipe, secrets: SecretResolver, notBefore = 0): TimedProbe | undefined {
    const entry = this.results.get(key);
    const current = entry && entry.generation === pipe.metadata.generation ? entry.result : undefined;
    const last = entry && entry.generation === pipe.metadata.generation ? (entry.result?.at ?? this.now()) : undefined;
    const stale = last === undefined || this.now() - last >= this.opts.intervalMs || last < notBefore;
    if (stale && !this.pending.has(key)) this.schedule(key, pipe, secrets);
    return current;
  }

  forget(key: string): void {
    this.results.delete(key);
  }

  private schedule(key: string, pipe: ClickPipe, secrets: SecretResolver): void {
    this.pending.add(key);
    this.waiting.push({ key, run: () => this.runProbe(key, pipe, secrets) });
    this.pump();
  }

  private pump(): void {
    while (this.active < this.opts.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift();
      if (!next) return;
      this.active++;
      void next.run().finally(() => {
        this.active--;
        this.pending.delete(next.key);
        this.opts.onResult(next.key);
        this.pump();
      });
    }
  }

  private async runProbe(key: string, pipe: ClickPipe, secrets: SecretResolver): Promise<void> {
    let result: SourceProbeResult | undefined;
    try {
      result = await this.opts.probe(pipe, secrets);
    } catch (error) {
      // a probe that throws (a Secret value it cannot use) says the source cannot be reached as configured
      const message = error instanceof Error ? error.message : String(error);
      this.opts.log.warn({ pipe: key, err: message }, "source probe failed");
      result = { reachability: { ok: false, reason: ConditionReason.SourceUnreachable, message: `probe failed: ${message}` } };
    }
    const timed = result ? { at: this.now(), reachability: result.reachability, ...(result.lag !== undefined ? { lag: result.lag } : {}) } : undefined;
    this.results.set(key, { generation: pipe.metadata.generation, result: timed });
  }
}
