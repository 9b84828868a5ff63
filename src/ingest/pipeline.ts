import { type BatchLimits, type FlushReason, flushReason, flushWhenCaughtUp, msUntilDue } from "./batcher.js";
import { Batch, type Routes } from "./batch.js";
import { looksLikeJsonObject } from "./decoders/json.js";
import { errorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import type { IngestMetrics } from "./metrics.js";
import { type RetryOptions, retry } from "./retry.js";
import { type DestinationSink, chTime } from "./sink.js";
import { runBulk } from "./bulk.js";
import type { BulkInsert, BulkResult, Checkpoint, RawRecord, RecordSink, Source, SourcePhase } from "./source.js";
import { LogType, SystemLog } from "./system-log.js";
import { insertTableBatch } from "./table-insert.js";

export interface PipelineOptions {
  readonly pipe: string;
  /** Destination tables, their mappers, the decoder. */
  readonly routes: Routes;
  /** Runs before records are decoded, e.g. to fetch the Avro schemas they name. */
  readonly prepare?: (records: readonly RawRecord[]) => Promise<void>;
  readonly sink: DestinationSink;
  readonly source: Source;
  readonly limits: BatchLimits;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  /** Backoff for retriable failures; its signal aborts retrying at shutdown. */
  readonly retry: RetryOptions;
  /** A batch could not be inserted or committed for good: the consumer must stop (uncommitted records come again). */
  readonly onFatal: (err: unknown) => void;
  /** A one-shot source's records are all in and committed, and Completed is recorded. */
  readonly onCompleted?: () => void;
  /** Re-reads these destination tables' columns and recompiles their mappers in `routes` (CDC schema changes). */
  readonly reloadTables?: (tables: readonly string[]) => Promise<void>;
}

/**
 * Decode → route → map → batch → insert → commit. Records arrive from the source; a batch
 * is inserted when full or old enough (every table's rows, then their error rows, then the
 * state rows that are also the checkpoint store), and only then are its positions
 * committed. Flushes run one at a time in order, so a commit never covers a batch that is
 * not in ClickHouse. At most one batch fills while one is inserted.
 */
export class Pipeline implements RecordSink {
  private batch: Batch;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly log: SystemLog;
  private lag: ReadonlyMap<string, number> = new Map();
  /** The full batch being inserted while the next one fills; at most one, so memory stays bounded. */
  private inserting: Promise<void> | undefined;
  private ended = false;
  /** Source timestamps of the records in each batch, for the end-to-end latency histogram once it is inserted. */
  private readonly timestamps = new WeakMap<Batch, number[]>();
  /** The filling batch's entry of `timestamps` (newBatch replaces both together). */
  private stamps: number[] = [];
  /** Why the last batch was flushed: full batches mean a backlog is draining (see flushWhenCaughtUp). */
  private lastFlush: FlushReason | "caughtUp" = undefined;

  constructor(private readonly opts: PipelineOptions) {
    this.batch = this.newBatch();
    this.log = new SystemLog(opts.pipe, opts.sink, opts.logger);
  }

  /** The fatal error that stopped the pipeline, if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** True once a one-shot source delivered everything and it is committed. */
  get completed(): boolean {
    return this.ended;
  }

  async onRecords(records: readonly RawRecord[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.opts.prepare !== undefined) await this.opts.prepare(records);
    this.opts.metrics.fetched(records);
    // One clock read per hand-over (and after each wait for an insert): adding a fetch's records takes milliseconds.
    let now = Date.now();
    for (const record of records) {
      this.batch.add(record, now, looksLikeJsonObject);
      this.stamps.push(record.timestamp);
      const reason = flushReason(this.batch, this.opts.limits, now);
      if (reason !== undefined) {
        this.lastFlush = reason;
        await this.startFlush();
        now = Date.now();
      }
    }
    this.arm();
  }

  onProgress(checkpoints: readonly Checkpoint[]): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    for (const c of checkpoints) this.batch.progress(c, Date.now());
    this.arm();
    return Promise.resolve();
  }

  async onCaughtUp(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (!flushWhenCaughtUp(this.batch, this.lastFlush)) return;
    this.lastFlush = "caughtUp";
    await this.startFlush();
  }

  onReset(): void {
    if (this.batch.recordCount > 0) this.opts.logger.info({ records: this.batch.recordCount }, "streams reassigned: dropping the uncommitted batch, it will be consumed again");
    this.batch = this.newBatch();
  }

  onPhase(phase: SourcePhase): void {
    this.log.info(LogType.phase, phase);
  }

  /** A CDC source changed these tables: what is held goes in first (old shape), then later records map to the new columns. */
  async onTablesChanged(tables: readonly string[]): Promise<void> {
    await this.flush();
    await this.opts.reloadTables?.(tables);
  }

  /** A bulk statement after what is held is committed (bulk.ts has the rules). */
  async onBulk(bulk: BulkInsert): Promise<BulkResult> {
    if (this.failure !== undefined) throw this.failure;
    await this.flush();
    const table = bulk.table ?? this.opts.routes.defaultTable;
    const columns = this.opts.routes.tables.get(table)?.columns ?? [];
    const { pipe, sink, source, retry: retryOpts, metrics, logger } = this.opts;
    return runBulk(bulk, { pipe, sink, source, table, columns, retry: retryOpts, metrics, logger, log: this.log });
  }

  onSourceError(message: string): void {
    this.log.error(LogType.source, message);
  }

  /** Everything delivered: insert and commit what is held, then record Completed (retried until ClickHouse takes it). */
  async onEnd(): Promise<void> {
    await this.flush();
    await this.retrying("insert_log", () => this.opts.sink.insertLog([{ time: chTime(Date.now()), pipe: this.opts.pipe, level: "info", error_type: LogType.phase, message: "Completed" }]));
    this.ended = true;
    this.opts.logger.info("the source delivered everything and it is committed: the pipe is Completed");
    this.opts.onCompleted?.();
  }

  /**
   * Insert the full batch in the background and keep filling the next one, so fetching and
   * decoding overlap the insert; wait first if the previous full batch is still going in.
   */
  private async startFlush(): Promise<void> {
    if (this.inserting !== undefined) await this.inserting;
    if (this.failure !== undefined) throw this.failure;
    this.flushInBackground();
  }

  /** Start inserting the current batch; `inserting` tracks the latest so the next full batch waits for it. */
  private flushInBackground(): void {
    // A failed flush is recorded in this.failure and reported through onFatal.
    const inserting = this.flush().catch(() => undefined);
    this.inserting = inserting;
    void inserting.then(() => {
      if (this.inserting === inserting) this.inserting = undefined;
    });
  }

  /** Insert and commit what is buffered now; resolves when that batch (and every earlier one) is committed. */
  flush(): Promise<void> {
    const batch = this.batch;
    this.batch = this.newBatch();
    this.disarm();
    const run = this.chain.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        await this.write(batch);
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
        this.opts.onFatal(err);
        throw err;
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    this.disarm();
  }

  settled(): Promise<void> {
    return this.chain;
  }

  private newBatch(): Batch {
    const batch = new Batch(this.opts.pipe, this.opts.routes);
    this.stamps = [];
    this.timestamps.set(batch, this.stamps);
    return batch;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const due = msUntilDue(this.batch, this.opts.limits, Date.now());
    if (due === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastFlush = "wait";
      this.flushInBackground();
    }, due);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private retrying<T>(operation: string, fn: () => Promise<T>, onFailure?: (err: unknown) => void): Promise<T> {
    return retry(fn, {
      ...this.opts.retry,
      onRetry: (err, attempt, delayMs) => {
        onFailure?.(err);
        this.opts.metrics.retried(operation);
        this.opts.logger.warn({ err: errorMessage(err), attempt, delayMs, operation }, "retriable failure, retrying");
      },
    });
  }

  private async write(batch: Batch): Promise<void> {
    if (batch.empty) return;
    const started = Date.now();
    // One clickpipes_log row per failing batch: the operator sees the destination failing while it lasts.
    let reported = false;
    const onSystemFailure = (err: unknown): void => {
      if (reported) return;
      reported = true;
      this.log.error(LogType.destination, `ClickHouse refused or did not answer the insert, retrying (nothing is committed until it succeeds): ${errorMessage(err)}`);
    };
    const source = this.opts.source;
    const landed = source.landed === undefined ? {} : { landed: source.landed.bind(source) };
    const deps = { sink: this.opts.metrics.countingSent(this.opts.sink), retry: this.opts.retry, metrics: this.opts.metrics, logger: this.opts.logger, onSystemFailure, ...landed };
    for (const lane of batch.tableBatches()) await insertTableBatch(lane, deps);
    const inserted = Date.now();
    this.opts.metrics.inserted(this.timestamps.get(batch) ?? [], inserted);
    for (const lane of batch.tableBatches()) {
      const rows = lane.errorRows();
      if (rows.length > 0) await this.retrying("insert_errors", () => this.opts.sink.insertErrors(lane.table, rows), onSystemFailure);
    }
    this.setLag(await this.opts.source.lag());
    await this.writeState(batch, onSystemFailure);
    const stated = Date.now();
    await this.retrying("commit", () => this.opts.source.commit(batch.checkpoints()));
    this.count(batch, started, { rowsMs: inserted - started, stateMs: stated - inserted });
    // Committed: nothing reads this batch's bodies any more, the next batches reuse their memory.
    for (const lane of batch.tableBatches()) lane.release();
  }

  /**
   * State rows (the checkpoint store), then the log rows that waited for ClickHouse. Separate
   * inserts, so a failed log write never repeats the state rows (they are counters).
   */
  private async writeState(batch: Batch, onFailure: (err: unknown) => void): Promise<void> {
    const rows = batch.stateRows(this.lag, Date.now());
    await this.retrying("insert_state", () => this.opts.sink.insertState(rows), onFailure);
    const log = this.log.take();
    if (log.length === 0) return;
    try {
      await this.opts.sink.insertLog(log);
    } catch (err) {
      this.opts.logger.warn({ err: errorMessage(err), rows: log.length }, "clickpipes_log rows kept for the next batch");
      this.log.putBack(log);
    }
  }

  private count(batch: Batch, started: number, timings: { rowsMs: number; stateMs: number }): void {
    let errors = 0;
    for (const lane of batch.tableBatches()) {
      for (const e of lane.errors) this.opts.metrics.recordError(e.row.error_type);
      errors += lane.errors.length;
    }
    const rows = batch.recordCount - errors;
    this.opts.metrics.batchDone(rows, batch.bytes, (Date.now() - started) / 1000);
    this.opts.logger.debug({ rows, errors, bytes: batch.bytes, ms: Date.now() - started, ...timings }, "batch committed");
  }

  private setLag(lag: ReadonlyMap<string, number>): void {
    this.lag = lag;
    for (const [key, value] of lag) this.opts.metrics.setLag(key, value);
  }
}
