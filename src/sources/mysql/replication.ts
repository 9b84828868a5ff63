/**
 * Continuous replication: a BinlogReader from the last position handed to the core, a
 * bounded queue between the reader (which the server pushes to) and the core (which pulls
 * at its own pace: the reader pauses the socket when the queue is full), and a reconnect
 * with backoff when the connection drops (a server restart): the new reader starts from the
 * last transaction boundary handed over, so nothing is skipped and at most one transaction
 * comes again (same versions, so ReplacingMergeTree collapses it).
 */
import type { ConnectionOptions } from "mysql2";
import { errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import { backoffDelay, retry, sleep } from "../../ingest/retry.js";
import type { RawRecord, RecordSink } from "../../ingest/source.js";
import { type BinlogItem, BinlogReader } from "./binlog.js";
import { mysqlError, mysqlRetriable } from "./errors.js";
import { BINLOG_STREAM, type BinlogPosition, encodeBinlogPosition } from "./position.js";
import { type TableSchema, applyColumnChanges, tableKey } from "./schema.js";

/** Records queued before the reader pauses the socket, and the level at which it resumes. */
const HIGH_WATER = 50_000;
const LOW_WATER = 10_000;
/** Records per hand-over to the core. */
const CHUNK = 5_000;

type Queued = Exclude<BinlogItem, { kind: "alter" }> | { readonly kind: "schema"; readonly before: TableSchema; readonly after: TableSchema };

export interface ReplicationOptions {
  readonly connection: ConnectionOptions;
  readonly start: BinlogPosition;
  readonly byGtid: boolean;
  readonly serverId: number;
  /** Mapped tables by `db.table`, updated here as ALTERs are read. */
  readonly schemas: Map<string, TableSchema>;
  /** One hand-over to the core at a time; false once the core stopped taking records. */
  readonly handOver: (give: (sink: RecordSink) => Promise<void>) => Promise<boolean>;
  /** Brings a target table from one schema to the next (ClickHouse ALTERs, the core's mapper). */
  readonly changeSchema: (before: TableSchema, after: TableSchema) => Promise<void>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** `{database: [tables]}` of the mapped tables, as zongji's includeSchema takes them. */
function mappedTables(schemas: Iterable<TableSchema>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of schemas) (out[s.database] ??= []).push(s.table);
  return out;
}

export class Replication {
  private queue: Queued[] = [];
  private queued = 0;
  private wake: (() => void) | undefined;
  private reader: BinlogReader | undefined;
  private failure: Error | undefined;
  private handed: BinlogPosition;
  /** Source time of the last change handed over, for lag. */
  private lastTimestamp = 0;
  /** The core stopped taking records (shutdown or a fatal failure): no reconnect. */
  private stopped = false;
  /** Which reader is current: items and errors of a reader already replaced are ignored. */
  private generation = 0;
  /** Breaks since the last transaction handed over, for the backoff before reconnecting. */
  private breaks = 0;

  constructor(private readonly opts: ReplicationOptions) {
    this.handed = opts.start;
  }

  /** Milliseconds the last handed-over change is behind the source's clock; 0 when caught up. */
  lagMs(): number {
    return this.queue.length === 0 ? 0 : Math.max(0, Date.now() - this.lastTimestamp);
  }

  /** Reads until aborted; rejects with a failure no reconnect can fix (access denied, binlog purged). */
  async run(): Promise<void> {
    const { signal, logger } = this.opts;
    signal.addEventListener("abort", () => this.wake?.(), { once: true });
    while (!signal.aborted && !this.stopped) {
      const reader = await retry(() => this.connect(), {
        initialMs: 500,
        maxMs: 15_000,
        signal,
        retriable: mysqlRetriable,
        onRetry: (err, attempt) => logger.warn({ err: errorMessage(err), attempt }, "cannot open the binlog stream yet, retrying"),
      }).catch((err: unknown) => {
        throw mysqlError("open the binlog stream", err);
      });
      await this.drain();
      this.reader = undefined;
      await reader.stop();
      const failure = this.failure;
      if (failure === undefined || signal.aborted || this.stopped) continue;
      if (!mysqlRetriable(failure)) throw mysqlError("read the binlog", failure);
      const delayMs = backoffDelay(this.breaks++, { initialMs: 200, maxMs: 15_000 });
      logger.warn({ err: errorMessage(failure), from: this.handed, delayMs }, "the binlog stream broke; reconnecting from the last transaction handed over");
      await sleep(delayMs, signal);
    }
  }

  private async connect(): Promise<BinlogReader> {
    this.queue = [];
    this.queued = 0;
    this.failure = undefined;
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation;
    const reader = new BinlogReader({
      connection: this.opts.connection,
      start: this.handed,
      byGtid: this.opts.byGtid,
      serverId: this.opts.serverId,
      table: (db, table) => this.opts.schemas.get(tableKey(db, table)),
      mapped: mappedTables(this.opts.schemas.values()),
      onItem: (item) => {
        if (current()) this.enqueue(item);
      },
      onError: (err) => {
        if (!current()) return;
        this.failure ??= err;
        this.wake?.();
      },
      logger: this.opts.logger,
    });
    try {
      await reader.start();
    } catch (err) {
      await reader.stop();
      throw err;
    }
    this.reader = reader;
    this.opts.logger.info({ from: this.handed, byGtid: this.opts.byGtid }, "reading the binlog");
    return reader;
  }

  /** Called synchronously for each item the reader produces, in binlog order. */
  private enqueue(item: BinlogItem): void {
    if (item.kind === "alter") {
      const key = tableKey(item.alter.database ?? item.schema, item.alter.table);
      const before = this.opts.schemas.get(key);
      if (before === undefined) return;
      const { schema: after, skipped } = applyColumnChanges(before, item.alter.changes);
      if (skipped.length > 0) this.opts.logger.warn({ table: key, skipped }, "columns added at the source with types this release does not map are not replicated");
      // Rows read from here on are converted with the new columns; the target changes before they are handed over.
      this.opts.schemas.set(key, after);
      this.queue.push({ kind: "schema", before, after });
    } else {
      this.queue.push(item);
      if (item.kind === "records") this.queued += item.records.length;
    }
    if (this.queued > HIGH_WATER) this.reader?.pause();
    this.wake?.();
  }

  private next(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Hands queued items to the core in order until the reader fails or the source stops. */
  private async drain(): Promise<void> {
    while (!this.opts.signal.aborted && this.failure === undefined) {
      const item = this.queue[0];
      if (item === undefined) {
        await this.next();
        continue;
      }
      const ok = item.kind === "records" ? await this.handRecords() : await this.handOne(item);
      if (!ok) {
        this.stopped = true;
        return;
      }
      if (this.queued < LOW_WATER) this.reader?.resume();
    }
  }

  /** Consecutive records items as one hand-over of up to CHUNK records. */
  private async handRecords(): Promise<boolean> {
    const records: RawRecord[] = [];
    while (records.length < CHUNK && this.queue[0]?.kind === "records") {
      const item = this.queue.shift() as Extract<Queued, { kind: "records" }>;
      for (const r of item.records) records.push(r);
      this.queued -= item.records.length;
    }
    const last = records.at(-1);
    if (last !== undefined) this.lastTimestamp = last.timestamp;
    return this.opts.handOver((sink) => sink.onRecords(records));
  }

  private async handOne(item: Exclude<Queued, { kind: "records" }>): Promise<boolean> {
    this.queue.shift();
    if (item.kind === "schema") {
      await this.opts.changeSchema(item.before, item.after);
      return true;
    }
    // Consecutive commits: only the last boundary matters.
    let position = item.position;
    while (this.queue[0]?.kind === "commit") position = (this.queue.shift() as Extract<Queued, { kind: "commit" }>).position;
    const ok = await this.opts.handOver((sink) => sink.onProgress([{ stream: BINLOG_STREAM, position: encodeBinlogPosition(position) }]));
    if (ok) {
      this.handed = position;
      this.breaks = 0;
    }
    return ok;
  }
}
