import { type BatchLimits, flushReason, msUntilDue } from "./batcher.js";
import { Batch, type Decoder } from "./batch.js";
import { looksLikeJsonObject } from "./decoders/json.js";
import { ErrorType, errorMessage, isRetriable } from "./errors.js";
import type { Logger } from "./logger.js";
import type { RecordMapper } from "./mapper.js";
import type { IngestMetrics } from "./metrics.js";
import { type RetryOptions, retry } from "./retry.js";
import { type DestinationSink, type LogRow, chTime } from "./sink.js";
import type { RawRecord, RecordSink, Source } from "./source.js";

export interface PipelineOptions {
  readonly pipe: string;
  readonly mapper: RecordMapper;
  readonly decode: Decoder;
  /** Runs before records are decoded, e.g. to fetch the Avro schemas they name. */
  readonly prepare?: (records: readonly RawRecord[]) => Promise<void>;
  /** Whether records may go to ClickHouse as their own JSON bytes (JSONEachRow only). */
  readonly passthrough: boolean;
  readonly sink: DestinationSink;
  readonly source: Source;
  readonly limits: BatchLimits;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  /** Backoff for retriable failures; its signal aborts retrying at shutdown. */
  readonly retry: RetryOptions;
  /** A batch could not be inserted or committed for good: the consumer must stop (uncommitted records come again). */
  readonly onFatal: (err: unknown) => void;
}

/** Pending system log rows kept while ClickHouse is unreachable, at most this many. */
const MAX_PENDING_LOG_ROWS = 100;

/**
 * Decode → map → batch → insert → commit. Records arrive from the source; a batch is
 * inserted when full or old enough, then its error rows and state rows, and only then
 * are its positions committed. Flushes run one at a time in order, so a commit never
 * covers a batch that is not in ClickHouse. At most one batch fills while one is inserted.
 */
export class Pipeline implements RecordSink {
  private batch: Batch;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly pendingLog: LogRow[] = [];
  private lag: ReadonlyMap<string, number> = new Map();
  /** The full batch being inserted while the next one fills; at most one, so memory stays bounded. */
  private inserting: Promise<void> | undefined;

  constructor(private readonly opts: PipelineOptions) {
    this.batch = this.newBatch();
  }

  /** The fatal error that stopped the pipeline, if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  async onRecords(records: readonly RawRecord[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.opts.prepare !== undefined) await this.opts.prepare(records);
    for (const record of records) {
      this.batch.add(record, Date.now(), looksLikeJsonObject);
      if (flushReason(this.batch, this.opts.limits, Date.now()) !== undefined) await this.startFlush();
    }
    this.arm();
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

  onReset(): void {
    if (this.batch.recordCount > 0) this.opts.logger.info({ records: this.batch.recordCount }, "partitions reassigned: dropping the uncommitted batch, it will be consumed again");
    this.batch = this.newBatch();
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

  /** Log a system error: to the logs now, to clickpipes_log with the next batch (ClickHouse may be the thing that is down). */
  systemError(errorType: string, message: string, level: "warn" | "error" = "error"): void {
    this.opts.logger[level]({ error_type: errorType }, message);
    if (this.pendingLog.length >= MAX_PENDING_LOG_ROWS) this.pendingLog.shift();
    this.pendingLog.push({ time: chTime(Date.now()), pipe: this.opts.pipe, level, error_type: errorType, message });
  }

  private setLag(lag: ReadonlyMap<string, number>): void {
    this.lag = lag;
    for (const [key, value] of lag) this.opts.metrics.setLag(key, value);
  }

  stop(): void {
    this.disarm();
  }

  private newBatch(): Batch {
    return new Batch(this.opts.pipe, this.opts.mapper, this.opts.decode, this.opts.passthrough && this.opts.mapper.passthrough);
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const due = msUntilDue(this.batch, this.opts.limits, Date.now());
    if (due === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushInBackground();
    }, due);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private retrying<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return retry(fn, {
      ...this.opts.retry,
      onRetry: (err, attempt, delayMs) => {
        this.opts.metrics.retried(operation);
        this.opts.logger.warn({ err: errorMessage(err), attempt, delayMs, operation }, "retriable failure, retrying");
      },
    });
  }

  private async write(batch: Batch): Promise<void> {
    if (batch.recordCount === 0) return;
    const started = Date.now();
    let failures = 0;
    const count = (err: unknown): void => {
      failures++;
      if (failures === 1) this.systemError(ErrorType.destination, `ClickHouse insert failing, retrying: ${errorMessage(err)}`, "warn");
    };
    await this.insertRecords(batch, count);
    const inserted = Date.now();
    const errors = batch.errorRows();
    await this.retrying("insert_errors", () => this.opts.sink.insertErrors(errors));
    this.setLag(await this.opts.source.lag());
    const log = this.pendingLog.splice(0);
    await this.retrying("insert_state", async () => {
      await this.opts.sink.insertState(batch.stateRows(this.lag, Date.now()));
      await this.opts.sink.insertLog(log);
    });
    const stated = Date.now();
    await this.retrying("commit", () => this.opts.source.commit(batch.checkpoints()));
    for (const e of errors) this.opts.metrics.recordError(e.error_type);
    const rows = batch.recordCount - errors.length;
    this.opts.metrics.batchDone(rows, batch.bytes, (Date.now() - started) / 1000);
    this.opts.logger.debug({ rows, errors: errors.length, bytes: batch.bytes, ms: Date.now() - started, rowsMs: inserted - started, stateMs: stated - inserted, mem: process.memoryUsage() }, "batch committed");
  }

  private async insertRecords(batch: Batch, onFailure: (err: unknown) => void): Promise<void> {
    if (batch.records.length === 0) return;
    if (batch.passthrough) {
      try {
        await this.insertBody(batch.insertBody(), true, onFailure);
        return;
      } catch (err) {
        if (isRetriable(err)) throw err;
        this.opts.logger.debug({ err: errorMessage(err) }, "ClickHouse refused the passed-through batch; checking record by record");
        batch.switchToMapped();
      }
    }
    await this.insertBisecting(batch, 0, batch.records.length, onFailure);
  }

  /** Insert rows [from, to); on a refusal split in halves until the refused rows are found, each becomes an error row. */
  private async insertBisecting(batch: Batch, from: number, to: number, onFailure: (err: unknown) => void): Promise<void> {
    if (from >= to) return;
    try {
      await this.insertBody(batch.rowsBody(from, to), false, onFailure);
    } catch (err) {
      if (isRetriable(err)) throw err;
      if (to - from === 1) {
        batch.addError(batch.records[from] as RawRecord, ErrorType.insert, `ClickHouse refused the row: ${errorMessage(err)}`, Date.now());
        return;
      }
      const mid = from + Math.floor((to - from) / 2);
      await this.insertBisecting(batch, from, mid, onFailure);
      await this.insertBisecting(batch, mid, to, onFailure);
    }
  }

  private insertBody(body: Buffer | readonly Buffer[], passthrough: boolean, onFailure: (err: unknown) => void): Promise<void> {
    return retry(() => this.opts.sink.insertBody(body, passthrough), {
      ...this.opts.retry,
      onRetry: (err, attempt, delayMs) => {
        onFailure(err);
        this.opts.metrics.retried("insert_rows");
        this.opts.logger.warn({ err: errorMessage(err), attempt, delayMs }, "ClickHouse insert failed (retriable), retrying");
      },
    });
  }
}
