import { GetRecordsCommand, type GetRecordsCommandOutput, GetShardIteratorCommand, type GetShardIteratorCommandInput, type KinesisClient } from "@aws-sdk/client-kinesis";
import { backoffDelay, sleep } from "../../ingest/retry.js";
import type { Logger } from "../../ingest/logger.js";
import type { RawRecord } from "../../ingest/source.js";
import { classifyKinesisError, errorName, kinesisError } from "./errors.js";
import { type CallOutcome, type ShardLimits, nextCallDelay, responseBytes } from "./pacing.js";
import { type StartAt, kinesisStream } from "./shards.js";
import type { KinesisMeta } from "./virtual-columns.js";

export type ReadableStart = Exclude<StartAt, { type: "FINISHED" } | { type: "SKIP" }>;

export interface ShardReaderDeps {
  readonly client: Pick<KinesisClient, "send">;
  readonly streamName: string;
  readonly shardId: string;
  readonly start: ReadableStart;
  readonly limits: ShardLimits;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Hands records to the core, in order; false once delivering stopped (the reader then ends). */
  deliver(records: RawRecord[]): Promise<boolean>;
  /** The shard is read to its end: hand its end marker over; false once delivering stopped. */
  finish(lastSequenceNumber: string | undefined): Promise<boolean>;
  setLag(ms: number): void;
}

export function iteratorInput(streamName: string, shardId: string, start: ReadableStart): GetShardIteratorCommandInput {
  const base = { StreamName: streamName, ShardId: shardId, ShardIteratorType: start.type };
  if (start.type === "AFTER_SEQUENCE_NUMBER") return { ...base, StartingSequenceNumber: start.sequenceNumber };
  if (start.type === "AT_TIMESTAMP") return { ...base, Timestamp: start.timestamp };
  return base;
}

/** A Kinesis record as the core's RawRecord; the data is a view of the response, copied by the batch that keeps it. */
export function toRawRecord(r: NonNullable<GetRecordsCommandOutput["Records"]>[number], stream: string, meta: KinesisMeta): RawRecord {
  const data = r.Data;
  return {
    value: data === undefined ? null : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    key: r.PartitionKey === undefined ? null : Buffer.from(r.PartitionKey, "utf8"),
    timestamp: r.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
    stream,
    position: r.SequenceNumber ?? "",
    meta,
  };
}

/**
 * One shard's GetRecords loop, from its start to its end (a closed shard returns no next
 * iterator) or until stopped. Paced to the shard's limits, backing off when throttled; an
 * expired iterator (after a long backpressure wait) is replaced by one after the last
 * record handed over. Throws a SourceError only for what retrying cannot fix.
 */
export class ShardReader {
  private lastSequenceNumber: string | undefined;
  private readonly stream: string;
  private readonly meta: KinesisMeta;
  private failures = 0;

  constructor(private readonly deps: ShardReaderDeps) {
    this.stream = kinesisStream(deps.streamName, deps.shardId);
    this.meta = { streamName: deps.streamName, shardId: deps.shardId };
  }

  async run(): Promise<"finished" | "stopped"> {
    const { signal } = this.deps;
    let iterator = await this.openIterator();
    let previous: CallOutcome | undefined;
    while (!signal.aborted && iterator !== undefined) {
      if (previous !== undefined) await sleep(nextCallDelay(previous, Date.now(), this.deps.limits), signal);
      if (signal.aborted) break;
      const step = await this.step(iterator);
      if (step === "stopped") return "stopped";
      if (step === "expired") iterator = await this.openIterator();
      else if (step !== "retry") [iterator, previous] = [step.next, step.outcome];
    }
    if (signal.aborted) return "stopped";
    // No next iterator: the shard is closed and every record of it has been handed over.
    return (await this.deps.finish(this.lastSequenceNumber)) ? "finished" : "stopped";
  }

  /** One GetRecords and the hand-over of its records. */
  private async step(iterator: string): Promise<{ next: string | undefined; outcome: CallOutcome } | "expired" | "retry" | "stopped"> {
    const startedAt = Date.now();
    const out = await this.getRecords(iterator);
    if (out === "expired") return "expired";
    if (out === undefined) return "retry";
    const records = out.Records ?? [];
    const millisBehindLatest = out.MillisBehindLatest ?? 0;
    this.deps.setLag(millisBehindLatest);
    if (records.length > 0) {
      if (!(await this.deps.deliver(records.map((r) => toRawRecord(r, this.stream, this.meta))))) return "stopped";
      this.lastSequenceNumber = records[records.length - 1]?.SequenceNumber ?? this.lastSequenceNumber;
    }
    return { next: out.NextShardIterator, outcome: { startedAt, bytes: responseBytes(records), records: records.length, millisBehindLatest } };
  }

  /** After the last record handed over, or the planned start when none was. Undefined when stopped. */
  private async openIterator(): Promise<string | undefined> {
    const start: ReadableStart =
      this.lastSequenceNumber === undefined ? this.deps.start : { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: this.lastSequenceNumber };
    while (!this.deps.signal.aborted) {
      try {
        const out = await this.deps.client.send(new GetShardIteratorCommand(iteratorInput(this.deps.streamName, this.deps.shardId, start)), { abortSignal: this.deps.signal });
        this.failures = 0;
        return out.ShardIterator;
      } catch (err) {
        await this.backOff("GetShardIterator", err);
      }
    }
    return undefined;
  }

  private async getRecords(iterator: string): Promise<GetRecordsCommandOutput | "expired" | undefined> {
    try {
      const out = await this.deps.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.deps.limits.maxRecordsPerCall }), { abortSignal: this.deps.signal });
      this.failures = 0;
      return out;
    } catch (err) {
      if (classifyKinesisError(err) === "expiredIterator") return "expired";
      await this.backOff("GetRecords", err);
      return undefined;
    }
  }

  /** Waits before the next try; throws what retrying cannot fix (and nothing once stopping). */
  private async backOff(call: string, err: unknown): Promise<void> {
    if (this.deps.signal.aborted) return;
    const kind = classifyKinesisError(err);
    const context = { stream: this.deps.streamName, shardId: this.deps.shardId, call };
    if (kind === "fatal") throw kinesisError(`${call} on ${this.deps.shardId} failed`, err, context);
    const delay = backoffDelay(this.failures++, kind === "throttled" ? { initialMs: 500, maxMs: 5_000 } : { initialMs: 1_000, maxMs: 30_000 });
    const fields = { ...context, error: errorName(err), attempt: this.failures, delayMs: delay };
    if (kind === "throttled") this.deps.logger.debug(fields, "shard throttled, backing off");
    else this.deps.logger.warn({ ...fields, err: err instanceof Error ? err.message : String(err) }, "Kinesis call failed, retrying");
    await sleep(delay, this.deps.signal);
  }
}
