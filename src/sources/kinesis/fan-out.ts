import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  RegisterStreamConsumerCommand,
  type StartingPosition,
  SubscribeToShardCommand,
  type SubscribeToShardEventStream,
} from "@aws-sdk/client-kinesis";
import { SourceError, errorMessage } from "../../ingest/errors.js";
import { backoffDelay } from "../../ingest/retry.js";
import { classifyKinesisError, errorName, kinesisError } from "./errors.js";
import { sleep } from "../../ingest/retry.js";
import { type ReadableStart, type ShardReaderDeps, toRawRecord } from "./shard-reader.js";
import { kinesisStream } from "./shards.js";

/**
 * Enhanced fan-out: a registered stream consumer gets its own 2 MiB/s per shard, pushed over
 * HTTP/2 (SubscribeToShard), instead of sharing the shard's 5 GetRecords calls/s with every
 * other reader. Not testable on the local emulators (kinesalite has no consumers; kinesis-mock's
 * HTTP/2 answers fail in the SDK), so it is unit-tested against a fake client only.
 */
export interface FanOutOptions {
  /** Name of the stream consumer to register or reuse (one per pipe). */
  readonly consumerName: string;
  /** A client on the SDK's HTTP/2 handler: SubscribeToShard needs it. */
  readonly client: Pick<KinesisClient, "send">;
}

/** Where a subscription starts: after the last record handed over, else the shard's planned start. */
export function startingPosition(start: ReadableStart, resumeAfter: string | undefined): StartingPosition {
  if (resumeAfter !== undefined) return { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: resumeAfter };
  if (start.type === "AFTER_SEQUENCE_NUMBER") return { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: start.sequenceNumber };
  if (start.type === "AT_TIMESTAMP") return { Type: "AT_TIMESTAMP", Timestamp: start.timestamp };
  return { Type: start.type };
}

/** The ARN of the pipe's stream consumer, registered if missing, once it is ACTIVE. */
export async function ensureStreamConsumer(client: Pick<KinesisClient, "send">, streamName: string, consumerName: string, signal: AbortSignal): Promise<string> {
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }), { abortSignal: signal });
  const streamArn = summary.StreamDescriptionSummary?.StreamARN;
  if (streamArn === undefined) throw new SourceError(`DescribeStreamSummary of ${streamName} returned no ARN`, { retriable: true, context: { stream: streamName } });
  for (let attempt = 0; !signal.aborted; attempt++) {
    let status: string | undefined;
    let arn: string | undefined;
    try {
      const d = await client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }), { abortSignal: signal });
      [status, arn] = [d.ConsumerDescription?.ConsumerStatus, d.ConsumerDescription?.ConsumerARN];
    } catch (err) {
      if (errorName(err) !== "ResourceNotFoundException") throw kinesisError(`cannot describe stream consumer ${consumerName}`, err, { stream: streamName });
      const r = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }), { abortSignal: signal });
      [status, arn] = [r.Consumer?.ConsumerStatus, r.Consumer?.ConsumerARN];
    }
    if (status === "ACTIVE" && arn !== undefined) return arn;
    // CREATING takes seconds on AWS; DELETING (a consumer being removed) must end before registering again.
    await sleep(Math.min(5_000, 500 * (attempt + 1)), signal);
  }
  throw new SourceError(`stopped while waiting for stream consumer ${consumerName}`, { retriable: true, context: { stream: streamName } });
}

/**
 * One shard through SubscribeToShard. A subscription lasts 5 minutes; the reader subscribes
 * again after the last record it handed over. The shard has ended when an event carries no
 * ContinuationSequenceNumber (its ChildShards are then listed; the source finds them).
 */
export class FanOutShardReader {
  /** The last record handed over (its shard's END marker names it). */
  private lastRecord: string | undefined;
  /** Where the next subscription starts: the last event's ContinuationSequenceNumber (progress even without records). */
  private resumeAfter: string | undefined;
  private failures = 0;
  private readonly stream: string;

  constructor(
    private readonly deps: ShardReaderDeps,
    private readonly consumerArn: string,
  ) {
    this.stream = kinesisStream(deps.streamName, deps.shardId);
  }

  async run(): Promise<"finished" | "stopped"> {
    const { signal } = this.deps;
    while (!signal.aborted) {
      try {
        const out = await this.deps.client.send(
          new SubscribeToShardCommand({ ConsumerARN: this.consumerArn, ShardId: this.deps.shardId, StartingPosition: startingPosition(this.deps.start, this.resumeAfter) }),
          { abortSignal: signal },
        );
        const ended = await this.consume(out.EventStream);
        if (ended === "stopped") return "stopped";
        if (ended === "finished") return (await this.deps.finish(this.lastRecord)) ? "finished" : "stopped";
      } catch (err) {
        await this.backOff(err);
      }
    }
    return "stopped";
  }

  /** Reads one subscription's events; "expired" when the 5 minutes are over (subscribe again). */
  private async consume(events: AsyncIterable<SubscribeToShardEventStream> | undefined): Promise<"finished" | "stopped" | "expired"> {
    if (events === undefined) return "expired";
    const meta = { streamName: this.deps.streamName, shardId: this.deps.shardId };
    for await (const ev of events) {
      const e = ev.SubscribeToShardEvent;
      if (e === undefined) throw Object.assign(new Error(`SubscribeToShard error event: ${Object.keys(ev).join(", ")}`), { name: Object.keys(ev)[0] ?? "Error" });
      this.failures = 0;
      this.deps.setLag(e.MillisBehindLatest ?? 0);
      const records = e.Records ?? [];
      if (records.length > 0) {
        if (!(await this.deps.deliver(records.map((r) => toRawRecord(r, this.stream, meta))))) return "stopped";
        this.lastRecord = records[records.length - 1]?.SequenceNumber ?? this.lastRecord;
      }
      if (e.ContinuationSequenceNumber === undefined || e.ContinuationSequenceNumber === null) return "finished";
      this.resumeAfter = e.ContinuationSequenceNumber;
    }
    return "expired";
  }

  private async backOff(err: unknown): Promise<void> {
    if (this.deps.signal.aborted) return;
    const kind = classifyKinesisError(err);
    const context = { stream: this.deps.streamName, shardId: this.deps.shardId, call: "SubscribeToShard" };
    if (kind === "fatal") throw kinesisError(`SubscribeToShard on ${this.deps.shardId} failed`, err, context);
    // ResourceInUseException: the previous subscription of this shard is still open for a few seconds.
    const delay = backoffDelay(this.failures++, { initialMs: 1_000, maxMs: 30_000 });
    this.deps.logger.warn({ ...context, error: errorName(err), err: errorMessage(err), delayMs: delay }, "subscription failed, subscribing again");
    await sleep(delay, this.deps.signal);
  }
}
