/**
 * Pure pacing of one shard's GetRecords loop. Kinesis allows a shard 5 GetRecords calls per
 * second and 2 MB/s of reads (shared by every polling consumer of the stream); going over
 * earns ProvisionedThroughputExceededException, so the loop spaces its calls to stay under
 * both, and idles between polls when it has caught up with the tip.
 */

export interface ShardLimits {
  /** Shortest gap between two GetRecords calls on a shard, ms. Default 200 (5 calls/s). */
  readonly minCallIntervalMs: number;
  /** Read budget per shard, bytes per second. Default 2 MiB/s. */
  readonly bytesPerSecond: number;
  /** Wait between polls once caught up with the tip (no records, 0 ms behind), ms. Default 1000. */
  readonly idleMs: number;
  /** Most records one GetRecords may return (Kinesis caps it at 10,000). Default 10,000. */
  readonly maxRecordsPerCall: number;
}

export const AWS_SHARD_LIMITS: ShardLimits = { minCallIntervalMs: 200, bytesPerSecond: 2 * 1024 * 1024, idleMs: 1_000, maxRecordsPerCall: 10_000 };

export interface CallOutcome {
  /** When the call was sent, ms since the epoch. */
  readonly startedAt: number;
  /** Bytes of record data it returned. */
  readonly bytes: number;
  readonly records: number;
  /** MillisBehindLatest of the response. */
  readonly millisBehindLatest: number;
}

/**
 * How long to wait before the next GetRecords of a shard: at least the call interval after
 * the previous call started, long enough that its bytes fit the per-second budget, and the
 * idle interval when the shard had nothing new.
 */
export function nextCallDelay(previous: CallOutcome, now: number, limits: ShardLimits = AWS_SHARD_LIMITS): number {
  const elapsed = now - previous.startedAt;
  const byCalls = limits.minCallIntervalMs;
  const byBytes = (previous.bytes / limits.bytesPerSecond) * 1000;
  const idle = previous.records === 0 && previous.millisBehindLatest <= 0 ? limits.idleMs : 0;
  return Math.max(0, Math.ceil(Math.max(byCalls, byBytes, idle) - elapsed));
}

/** Bytes of a GetRecords response's data (what the 2 MB/s budget counts). */
export function responseBytes(records: readonly { Data?: Uint8Array | undefined }[]): number {
  let n = 0;
  for (const r of records) n += r.Data?.byteLength ?? 0;
  return n;
}
