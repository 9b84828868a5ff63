/** When a batch must be inserted (ClickPipes: 100,000 rows, 20 MB or 5 s, whichever first). */
export interface BatchLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
}

export const defaultBatchLimits: BatchLimits = { maxRows: 100_000, maxBytes: 20 * 1024 * 1024, maxWaitMs: 5_000 };

export interface BatchState {
  /** Records in the batch, rows and bad records alike (both are inserted). */
  readonly recordCount: number;
  readonly bytes: number;
  /** When the first record entered the batch (ms), undefined while empty. */
  readonly openedAt: number | undefined;
}

export type FlushReason = "rows" | "bytes" | "wait" | undefined;

/** Pure decision: should this batch be inserted now, and why. */
export function flushReason(state: BatchState, limits: BatchLimits, now: number): FlushReason {
  // A batch holding only progress (positions without records) is opened too, and goes by the wait limit.
  if (state.openedAt === undefined) return undefined;
  if (state.recordCount >= limits.maxRows) return "rows";
  if (state.bytes >= limits.maxBytes) return "bytes";
  if (now - state.openedAt >= limits.maxWaitMs) return "wait";
  return undefined;
}

/**
 * Pure decision: the source has handed over all it had (no lag). A batch that fills after a
 * full one is the tail of a backlog: waiting for the timer would only delay it, no more
 * records are coming soon. After a batch that went by its timer (a trickle), the timer
 * stays the rule, so a slow stream still makes one insert per wait time, not one per fetch.
 */
export function flushWhenCaughtUp(state: BatchState, previous: FlushReason | "caughtUp"): boolean {
  return state.recordCount > 0 && (previous === "rows" || previous === "bytes");
}

/** Ms until the wait limit fires for this batch (0 when due, undefined when empty). */
export function msUntilDue(state: BatchState, limits: BatchLimits, now: number): number | undefined {
  if (state.openedAt === undefined) return undefined;
  return Math.max(0, state.openedAt + limits.maxWaitMs - now);
}
