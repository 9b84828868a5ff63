/**
 * Which of this member's partitions are read to their high watermark, and each one's lag.
 * A partition nothing was fetched from yet is unknown (not caught up): a fetch response
 * holds at most `maxBytes`, so the first rounds after a join often leave partitions out, and
 * kafkajs never shows a partition that has no records. Those are learned from the broker
 * at the join instead (`initial`): an empty partition must not keep the member from ever
 * looking caught up.
 */
export class PartitionLags {
  /** Stream → records behind the high watermark; undefined while unknown. */
  private readonly lags = new Map<string, number | undefined>();

  /** A new assignment: only these streams count from now on, all unknown. */
  assign(streams: readonly string[]): void {
    this.lags.clear();
    for (const s of streams) this.lags.set(s, undefined);
  }

  /** A fetch's records of `stream` were handed over; `lag` records remain behind the high watermark. */
  fetched(stream: string, lag: number): void {
    this.lags.set(stream, lag);
  }

  /** The lag the broker reported at the join, for a stream still unknown (a fetch since then knows better). */
  initial(stream: string, lag: number): void {
    if (this.lags.has(stream) && this.lags.get(stream) === undefined) this.lags.set(stream, lag);
  }

  /** Every assigned partition known to be at its high watermark. */
  caughtUp(): boolean {
    if (this.lags.size === 0) return false;
    for (const lag of this.lags.values()) if (lag !== 0) return false;
    return true;
  }

  /** The known lags (the pipe's lag metric and state rows). */
  known(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [stream, lag] of this.lags) if (lag !== undefined) out.set(stream, lag);
    return out;
  }
}

/** Records behind the high watermark for a group's committed offset ("-1": none yet, the group starts at one end). */
export function lagFromCommitted(committed: string, low: string, high: string, startsAtLatest: boolean): number {
  if (committed === "-1") return startsAtLatest ? 0 : Math.max(0, Number(BigInt(high) - BigInt(low)));
  return Math.max(0, Number(BigInt(high) - BigInt(committed)));
}
