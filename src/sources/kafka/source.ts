import { type Admin, type Consumer, type EachBatchPayload, type IHeaders, Kafka, type KafkaConfig, type KafkaMessage, logLevel, type LogEntry } from "kafkajs";
import { type KafkaSource as KafkaSpec, splitList } from "../../api/index.js";
import { SourceError, errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import type { Checkpoint, RawRecord, RecordSink, Source } from "../../ingest/source.js";
import { PartitionLags, lagFromCommitted } from "./caught-up.js";
import { type ExactlyOnceFence, filterLanded } from "./exactly-once.js";
import { isRebalanceError } from "./rebalance-errors.js";
import { kafkaStream, parseKafkaStream } from "./stream.js";
import type { KafkaMeta } from "./virtual-columns.js";

export { kafkaStream, parseKafkaStream } from "./stream.js";

export interface KafkaSourceOptions {
  readonly spec: KafkaSpec;
  readonly client: KafkaConfig;
  readonly groupId: string;
  readonly logger: Logger;
  /** Fetch sizes: large fetches keep the consumer busy; both bound memory. */
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
  /** Called when kafkajs gives up (a non-retriable failure): the process should stop and be restarted. */
  readonly onFatal: (err: Error) => void;
  /** Set for `spec.settings.exactlyOnce`: re-delivered records already in the table are dropped. */
  readonly exactlyOnce?: ExactlyOnceFence;
}

/**
 * Fetch sizes. A fetch response is held whole while kafkajs decodes it (and once more as the
 * socket chunks it arrived in), with its records as objects: 8 MiB fetches of 200-byte
 * records put ~40,000 message objects and ~16 MiB of short-lived buffers beside the two batch
 * bodies, and only a full collection frees them (RSS 270-290 MiB in `npm run bench -- kafka`,
 * 220-250 with 2 MiB, at the same CPU per row). 1 MiB per partition is Kafka's own consumer
 * default; 2 MiB per round trip to a broker is ~1 GB/s at an in-region 2 ms round trip.
 */
export const DEFAULT_FETCH = { maxBytesPerPartition: 1024 * 1024, maxBytes: 2 * 1024 * 1024 } as const;

/** Shared by every record without headers (most of them): one array less per record held in a batch. */
const NO_HEADERS: readonly (readonly [string, string])[] = Object.freeze([]);

function headerPairs(headers: IHeaders | undefined): readonly (readonly [string, string])[] {
  if (headers === undefined) return NO_HEADERS;
  let pairs: (readonly [string, string])[] | undefined;
  for (const key in headers) {
    const value = headers[key];
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== undefined) (pairs ??= []).push([key, v.toString()]);
  }
  return pairs ?? NO_HEADERS;
}

/**
 * The key is copied out of the fetch response (a slice would pin the whole response for as
 * long as a batch holds the record); the value is copied by the batch that keeps it.
 * Records without headers share their batch's meta object.
 */
function toRecord(stream: string, shared: KafkaMeta, m: KafkaMessage): RawRecord {
  const headers = headerPairs(m.headers);
  return {
    value: m.value,
    key: m.key === null ? null : Buffer.from(m.key),
    timestamp: Number(m.timestamp),
    stream,
    position: m.offset,
    meta: headers === NO_HEADERS ? shared : { ...shared, headers },
  };
}

function kafkaLogCreator(logger: Logger): () => (entry: LogEntry) => void {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const fields = { component: "kafkajs", ...extra };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}

/**
 * Kafka through a kafkajs consumer group. Offsets are never committed by kafkajs: the
 * pipeline commits them after the batch is in ClickHouse. Records handed over are
 * "resolved" only in kafkajs' memory, so a rebalance re-delivers everything uncommitted.
 */
export class KafkaRecordSource implements Source {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly topics: string[];
  private readonly lags = new PartitionLags();
  private delivering = true;
  private inFlight: Promise<void> = Promise.resolve();

  /** Exactly-once only: what of a batch is in its table, asked before a failed insert is retried. */
  readonly landed: Source["landed"];

  constructor(private readonly opts: KafkaSourceOptions) {
    const fence = opts.exactlyOnce;
    this.landed = fence === undefined ? undefined : (_table, records) => fence.landed(records);
    this.kafka = new Kafka({ ...opts.client, logLevel: logLevel.WARN, logCreator: kafkaLogCreator(opts.logger) });
    this.topics = splitList(opts.spec.topics);
    this.consumer = this.kafka.consumer({
      groupId: opts.groupId,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? DEFAULT_FETCH.maxBytesPerPartition,
      maxBytes: opts.maxBytes ?? DEFAULT_FETCH.maxBytes,
      maxWaitTimeInMs: 1_000,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.admin = this.kafka.admin();
  }

  async start(sink: RecordSink): Promise<void> {
    // A table that cannot tell what it holds is a ConfigError; ClickHouse down is retried by the caller.
    await this.opts.exactlyOnce?.check();
    try {
      await this.admin.connect();
      await this.consumer.connect();
      if (this.opts.spec.offset.strategy === "from_timestamp") await this.seekFreshGroupToTimestamp();
      await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.opts.spec.offset.strategy !== "from_latest" });
    } catch (err) {
      throw new SourceError(`cannot connect to Kafka (${this.opts.client.brokers.toString()}): ${errorMessage(err)}`, {
        // Brokers that refuse us now (down, credentials, ACLs) may accept us later: the consumer keeps
        // trying and reports it, and the operator fails the pipe after the source threshold.
        retriable: true,
        cause: err,
        context: { groupId: this.opts.groupId },
      });
    }
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assigned = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((p) => kafkaStream(topic, p)));
      this.lags.assign(assigned);
      void this.learnInitialLags(Object.keys(event.payload.memberAssignment));
      this.opts.exactlyOnce?.reset();
      sink.onReset();
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (!event.payload.restart) this.opts.onFatal(event.payload.error);
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.deliver(payload, sink),
    });
  }

  /** Stop handing records over; resolves once the handler in progress (if any) has returned. */
  async stopDelivering(): Promise<void> {
    this.delivering = false;
    this.consumer.pause(this.topics.map((topic) => ({ topic })));
    await this.inFlight;
  }

  async commit(checkpoints: readonly Checkpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    try {
      // A checkpoint names the last record in; Kafka's committed offset is the next one to read.
      await this.consumer.commitOffsets(checkpoints.map((c) => ({ ...parseKafkaStream(c.stream), offset: (BigInt(c.position) + 1n).toString() })));
    } catch (err) {
      if (isRebalanceError(err)) {
        this.opts.logger.warn({ err: errorMessage(err) }, "commit refused after a rebalance: these records will be consumed again (at-least-once)");
        return;
      }
      throw new SourceError(`committing offsets failed: ${errorMessage(err)}`, { retriable: true, cause: err, context: { checkpoints } });
    }
  }

  lag(): Promise<Map<string, number>> {
    return Promise.resolve(this.lags.known());
  }

  async close(): Promise<void> {
    this.delivering = false;
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  private async deliver(payload: EachBatchPayload, sink: RecordSink): Promise<void> {
    const { batch } = payload;
    if (!this.delivering || payload.isStale() || batch.messages.length === 0) return;
    const done = this.handle(payload, sink);
    this.inFlight = done.catch(() => undefined);
    await done;
  }

  private async handle(payload: EachBatchPayload, sink: RecordSink): Promise<void> {
    const { batch } = payload;
    const stream = kafkaStream(batch.topic, batch.partition);
    const shared: KafkaMeta = { topic: batch.topic, partition: batch.partition, headers: NO_HEADERS };
    let records = batch.messages.map((m) => toRecord(stream, shared, m));
    // A long insert (ClickHouse down, retrying) must not get this member evicted from the group.
    const beat = setInterval(() => {
      payload.heartbeat().catch((err: unknown) => this.opts.logger.debug({ err: errorMessage(err) }, "heartbeat failed"));
    }, 3_000);
    try {
      const fence = this.opts.exactlyOnce;
      if (fence === undefined) {
        await sink.onRecords(records);
      } else {
        const filtered = filterLanded(records, fence.get(stream) ?? (await this.loadFence(fence, sink, stream, batch.partition, batch.topic)));
        records = filtered.records;
        if (records.length > 0) await sink.onRecords(records);
        if (filtered.progress !== undefined) await sink.onProgress([{ stream, position: filtered.progress }]);
        await this.settleBeforeRebalance(payload, sink);
      }
      this.lags.fetched(stream, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset()) - 1n)));
      if (this.lags.caughtUp()) await sink.onCaughtUp?.();
    } finally {
      clearInterval(beat);
    }
    payload.resolveOffset(batch.lastOffset());
  }

  /**
   * Lags of the partitions just assigned, from the group's committed offsets and the
   * partitions' watermarks: what tells an empty partition from one not fetched yet. Best
   * effort: without it those partitions stay unknown until fetched (the batch timer rules).
   */
  private async learnInitialLags(topics: readonly string[]): Promise<void> {
    try {
      const startsAtLatest = this.opts.spec.offset.strategy === "from_latest";
      const committed = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: [...topics] });
      for (const { topic, partitions } of committed) {
        const marks = new Map((await this.admin.fetchTopicOffsets(topic)).map((m) => [m.partition, m]));
        for (const { partition, offset } of partitions) {
          const mark = marks.get(partition);
          if (mark !== undefined) this.lags.initial(kafkaStream(topic, partition), lagFromCommitted(offset, mark.low, mark.high, startsAtLatest));
        }
      }
    } catch (err) {
      this.opts.logger.debug({ err: errorMessage(err) }, "could not read the partitions' lags after joining; they are learned from fetches");
    }
  }

  /** Our own batches in flight go in first, so the table shows everything this member inserted. */
  private async loadFence(fence: ExactlyOnceFence, sink: RecordSink, stream: string, partition: number, topic: string): ReturnType<ExactlyOnceFence["load"]> {
    await sink.settled?.();
    const loaded = await fence.load(stream, topic, partition);
    this.opts.logger.info({ stream, checkpoint: loaded.checkpoint, landed: loaded.landed.size }, "exactly-once: stream resumed after its stored position");
    return loaded;
  }

  /**
   * kafkajs rejoins a rebalancing group once this handler returns: finish the inserts in
   * flight first, so the next owner of these partitions reads a table that holds them.
   */
  private async settleBeforeRebalance(payload: EachBatchPayload, sink: RecordSink): Promise<void> {
    try {
      await payload.heartbeat();
    } catch (err) {
      if (!isRebalanceError(err)) throw err;
      this.opts.logger.info({ reason: errorMessage(err) }, "exactly-once: the group is rebalancing, finishing the inserts in flight before rejoining");
      await sink.settled?.();
      throw err;
    }
  }

  /** from_timestamp applies to a group with no committed offsets: seek each partition to the first offset at or after the time. */
  private async seekFreshGroupToTimestamp(): Promise<void> {
    const at = Date.parse(this.opts.spec.offset.timestamp ?? "");
    const committed = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: this.topics });
    const fresh = committed.every((t) => t.partitions.every((p) => p.offset === "-1"));
    if (!fresh) return;
    for (const topic of this.topics) {
      const partitions = await this.admin.fetchTopicOffsetsByTimestamp(topic, at);
      await this.admin.setOffsets({ groupId: this.opts.groupId, topic, partitions });
    }
    this.opts.logger.info({ timestamp: this.opts.spec.offset.timestamp }, "new consumer group positioned by timestamp");
  }
}
