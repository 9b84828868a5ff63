import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import type { Checkpoint, RecordSink, Source } from "../../ingest/source.js";
import type { CheckpointStore } from "../plugin.js";
import { kinesisError } from "./errors.js";
import { type FanOutOptions, FanOutShardReader, ensureStreamConsumer } from "./fan-out.js";
import { listAllShards } from "./list-shards.js";
import { AWS_SHARD_LIMITS, type ShardLimits } from "./pacing.js";
import { ShardReader, type ShardReaderDeps } from "./shard-reader.js";
import { type InitialIterator, type ShardInfo, endPosition, isEndPosition, kinesisStream, ownedShards, readyToRead, shardOfStream, shardOwner, startAt } from "./shards.js";

export interface KinesisSourceOptions {
  readonly streamName: string;
  readonly client: KinesisClient;
  readonly initial: InitialIterator;
  readonly replica: { readonly index: number; readonly count: number };
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  readonly onFatal: (err: Error) => void;
  readonly limits?: ShardLimits;
  /** Enhanced fan-out (SubscribeToShard with a registered consumer) instead of polling; absent: GetRecords. */
  readonly fanOut?: FanOutOptions;
  /** How often the shard list is read again to find children of a reshard, ms (default 10 s; also at once when a shard ends). */
  readonly discoveryIntervalMs?: number;
}

/**
 * Kinesis Data Streams by polling (GetRecords). This replica reads the shards its index owns
 * (a split by shard id, see shards.ts), each in its own paced loop; a child shard starts
 * only once its parents are finished, here or (for a parent another replica owns) in the
 * checkpoint store. Positions live in the checkpoint store: the core writes each shard's
 * last sequence number after the rows are in, and a restarted replica resumes after them.
 */
export class KinesisRecordSource implements Source {
  private readonly shards = new Map<string, ShardInfo>();
  /** Shards read to their end (here, or per their END checkpoint) or skipped: their children may start. */
  private readonly finished = new Set<string>();
  /** Shards this process started reading: their children start at TRIM_HORIZON. */
  private readonly read = new Set<string>();
  private readonly readers = new Map<string, Promise<void>>();
  /** The checkpoint store by shard id, as last loaded. */
  private stored = new Map<string, string>();
  private readonly lagByStream = new Map<string, number>();
  private readonly stopping = new AbortController();
  private delivering = true;
  private chain: Promise<unknown> = Promise.resolve();
  private sink: RecordSink | undefined;
  private wake: (() => void) | undefined;
  private discovery: Promise<void> | undefined;
  private readonly limits: ShardLimits;
  /** The registered stream consumer, when reading by enhanced fan-out. */
  private consumerArn: string | undefined;

  constructor(private readonly opts: KinesisSourceOptions) {
    this.limits = opts.limits ?? AWS_SHARD_LIMITS;
  }

  async start(sink: RecordSink): Promise<void> {
    this.sink = sink;
    await this.loadCheckpoints();
    try {
      const fanOut = this.opts.fanOut;
      if (fanOut !== undefined) this.consumerArn = await ensureStreamConsumer(fanOut.client, this.opts.streamName, fanOut.consumerName, this.stopping.signal);
      await this.discover();
    } catch (err) {
      throw kinesisError(`cannot open Kinesis stream ${this.opts.streamName} (list its shards${this.opts.fanOut === undefined ? "" : ", register its fan-out consumer"})`, err, { stream: this.opts.streamName });
    }
    this.discovery = this.discoveryLoop();
  }

  async stopDelivering(): Promise<void> {
    this.delivering = false;
    await this.chain;
  }

  /** Positions are in the checkpoint store already (written by the core before it commits): nothing to do. */
  commit(_checkpoints: readonly Checkpoint[]): Promise<void> {
    return Promise.resolve();
  }

  lag(): Promise<Map<string, number>> {
    return Promise.resolve(new Map(this.lagByStream));
  }

  async close(): Promise<void> {
    this.delivering = false;
    this.stopping.abort();
    await Promise.allSettled([this.discovery, ...this.readers.values()]);
    this.opts.client.destroy();
  }

  /** Shards this replica owns and reads now (for logs and tests). */
  get reading(): string[] {
    return [...this.readers.keys()];
  }

  private async loadCheckpoints(): Promise<void> {
    const positions = await this.opts.checkpoints.load();
    const stored = new Map<string, string>();
    for (const [stream, position] of positions) {
      const shard = shardOfStream(this.opts.streamName, stream);
      if (shard !== undefined) stored.set(shard, position);
    }
    this.stored = stored;
  }

  private async discoveryLoop(): Promise<void> {
    const { signal } = this.stopping;
    const every = this.opts.discoveryIntervalMs ?? 10_000;
    while (!signal.aborted) {
      await this.pause(every, signal);
      if (signal.aborted) return;
      try {
        // A parent another replica reads is finished once its END is in the checkpoint store.
        if (this.waitsForOthers()) await this.loadCheckpoints();
        await this.discover();
      } catch (err) {
        // The readers keep going; the next round lists again. Lasting failures show in the readers' own errors.
        this.opts.logger.warn({ stream: this.opts.streamName, err: errorMessage(err) }, "listing the stream's shards failed, retrying");
      }
    }
  }

  /** Waits `ms`, or less when a shard ends (its children may be ready) or the source stops. */
  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private waitsForOthers(): boolean {
    for (const shard of ownedShards([...this.shards.values()], this.opts.replica)) {
      if (this.readers.has(shard.id) || this.finished.has(shard.id)) continue;
      if (shard.parents.some((p) => shardOwner(p, this.opts.replica.count) !== this.opts.replica.index)) return true;
    }
    return false;
  }

  private isFinished(shardId: string): boolean {
    if (this.finished.has(shardId) || isEndPosition(this.stored.get(shardId))) return true;
    const shard = this.shards.get(shardId);
    if (shard === undefined || shardOwner(shardId, this.opts.replica.count) === this.opts.replica.index) return false;
    // Another replica's shard that nobody reads (closed, never read, LATEST) counts as finished there too.
    const start = startAt(shard, this.startFacts(shard));
    return start.type === "SKIP" || start.type === "FINISHED";
  }

  private startFacts(shard: ShardInfo): Parameters<typeof startAt>[1] {
    return { checkpoint: this.stored.get(shard.id), parentRead: shard.parents.some((p) => this.read.has(p) || this.stored.has(p)), initial: this.opts.initial };
  }

  /** Lists the shards and starts every owned shard that is ready; repeats while finishing a shard makes another ready. */
  private async discover(): Promise<void> {
    const list = await listAllShards(this.opts.client, this.opts.streamName, this.stopping.signal);
    for (const s of list) this.shards.set(s.id, s);
    const known = new Set(list.map((s) => s.id));
    const mine = ownedShards(list, this.opts.replica);
    for (let changed = true; changed; ) {
      changed = false;
      for (const shard of mine) {
        if (this.readers.has(shard.id) || this.finished.has(shard.id)) continue;
        if (!readyToRead(shard, known, (id) => this.isFinished(id))) continue;
        changed = this.begin(shard) || changed;
      }
    }
  }

  /** Starts reading a shard, or records that there is nothing to read; true when it finished at once. */
  private begin(shard: ShardInfo): boolean {
    const start = startAt(shard, this.startFacts(shard));
    if (start.type === "FINISHED" || start.type === "SKIP") {
      this.finished.add(shard.id);
      this.opts.logger.info({ shardId: shard.id, why: start.type }, "shard has nothing to read");
      return true;
    }
    this.read.add(shard.id);
    this.opts.logger.info({ shardId: shard.id, start: start.type, parents: shard.parents }, "reading shard");
    const deps: ShardReaderDeps = {
      client: this.opts.client,
      streamName: this.opts.streamName,
      shardId: shard.id,
      start,
      limits: this.limits,
      logger: this.opts.logger,
      signal: this.stopping.signal,
      deliver: (records) =>
        this.handOver(async (sink) => {
          await sink.onRecords(records);
          // Every shard read so far at its tip: a backlog's last records need not wait for the batch timer.
          if ([...this.lagByStream.values()].every((ms) => ms === 0)) await sink.onCaughtUp?.();
        }),
      finish: (last) => this.handOver((sink) => sink.onProgress([{ stream: kinesisStream(this.opts.streamName, shard.id), position: endPosition(last) }])),
      setLag: (ms) => this.lagByStream.set(kinesisStream(this.opts.streamName, shard.id), ms),
    };
    const reader = this.opts.fanOut !== undefined && this.consumerArn !== undefined ? new FanOutShardReader({ ...deps, client: this.opts.fanOut.client }, this.consumerArn) : new ShardReader(deps);
    const running = reader.run().then(
      (outcome) => this.ended(shard.id, outcome),
      (err: unknown) => {
        this.readers.delete(shard.id);
        this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
      },
    );
    this.readers.set(shard.id, running);
    return false;
  }

  private ended(shardId: string, outcome: "finished" | "stopped"): void {
    this.readers.delete(shardId);
    if (outcome !== "finished") return;
    this.finished.add(shardId);
    this.lagByStream.set(kinesisStream(this.opts.streamName, shardId), 0);
    this.opts.logger.info({ shardId }, "shard read to its end and retired; looking for its children");
    this.wake?.();
  }

  /**
   * One hand-over to the core at a time, in the order readers ask: the core sees each
   * shard's records in order, and a parent's end before any record of its children.
   */
  private handOver(give: (sink: RecordSink) => Promise<void>): Promise<boolean> {
    const run = this.chain.then(async () => {
      if (!this.delivering || this.sink === undefined) return false;
      try {
        await give(this.sink);
      } catch (err) {
        // The pipeline failed for good: nothing more is handed over and the consumer stops (uncommitted records come again).
        this.delivering = false;
        this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
        return false;
      }
      return true;
    });
    this.chain = run;
    return run;
  }
}
