/**
 * The binlog reader: @vlasky/zongji (the replication protocol for MySQL and MariaDB, over
 * mysql2) from a stored position, by GTID or by file and position. Turns row events of the
 * mapped tables into records, commits into positions, and ALTER TABLE statements on mapped
 * tables into schema changes, in binlog order, through one callback. Decisions are pure
 * functions elsewhere (position.ts, ddl.ts, rows.ts); this file is the edge.
 */
import ZongJi, { type AnyBinlogEvent, type QueryEvent, type RowsEvent } from "@vlasky/zongji";
import type { ConnectionOptions } from "mysql2";
import type { Logger } from "../../ingest/logger.js";
import type { RawRecord } from "../../ingest/source.js";
import { type AlterTable, parseAlterTable } from "./ddl.js";
import { BINLOG_STREAM, type BinlogPosition, binlogFileNumber, binlogVersion, encodeBinlogPosition } from "./position.js";
import { mysqlChangeRecord } from "./rows.js";
import type { TableSchema } from "./schema.js";

/** What the reader hands on, in binlog order. */
export type BinlogItem =
  | { readonly kind: "records"; readonly records: RawRecord[] }
  /** A transaction boundary: everything before it has been handed on. */
  | { readonly kind: "commit"; readonly position: BinlogPosition; readonly timestamp: number }
  /** An ALTER TABLE on a mapped table (`schema` is the source database the statement ran in). */
  | { readonly kind: "alter"; readonly alter: AlterTable; readonly schema: string; readonly position: BinlogPosition };

export interface BinlogReaderOptions {
  readonly connection: ConnectionOptions;
  readonly start: BinlogPosition;
  /** Resume by the GTID of `start` (true) or by its file and position. */
  readonly byGtid: boolean;
  /** Replica server id the reader announces; unique among the server's replicas. */
  readonly serverId: number;
  /** The mapped table's schema as of the event being read, or undefined for tables the pipe does not replicate. */
  readonly table: (database: string, table: string) => TableSchema | undefined;
  /** The mapped tables by database: zongji decodes row events of these only. */
  readonly mapped: Readonly<Record<string, string[]>>;
  readonly onItem: (item: BinlogItem) => void;
  readonly onError: (err: Error) => void;
  readonly logger: Logger;
}

const EVENTS = ["rotate", "mariadbgtid", "gtid", "query", "xid", "tablemap", "writerows", "updaterows", "deleterows", "transactionpayload", "partialupdaterows"];

const HEADER_BYTES = 19;

type UpdateRow = { before: Record<string, unknown>; after: Record<string, unknown> };

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

export class BinlogReader {
  private readonly zongji: ZongJi;
  private file: string;
  /** File offset just past the last event seen (events inside a MariaDB transaction may carry no position). */
  private cursor: number;
  private boundary: BinlogPosition;
  private paused = false;

  constructor(private readonly opts: BinlogReaderOptions) {
    this.zongji = new ZongJi(opts.connection);
    this.file = opts.start.file;
    this.cursor = opts.start.pos;
    this.boundary = opts.start;
  }

  /** Connects and starts streaming; resolves once the server accepted the dump request. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      let started = false;
      this.zongji.once("ready", () => {
        started = true;
        resolve();
      });
      this.zongji.on("error", (err: Error) => {
        if (!started) reject(err);
        else this.opts.onError(err);
      });
      this.zongji.on("binlog", (event: AnyBinlogEvent) => {
        try {
          this.handle(event);
        } catch (err) {
          this.opts.onError(err instanceof Error ? err : new Error(String(err)));
        }
      });
      const { start, byGtid, serverId } = this.opts;
      const from = byGtid && start.gtid !== undefined ? { gtidSet: start.gtid } : { filename: start.file, position: start.pos };
      this.zongji.start({ ...from, serverId, includeEvents: EVENTS, includeSchema: this.opts.mapped });
    });
  }

  /** Stops reading from the socket (the server's sends back up); `resume` continues. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.zongji.connection?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.zongji.connection?.resume();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.zongji.stopped) return resolve();
      const timer = setTimeout(resolve, 5_000);
      this.zongji.once("stopped", () => {
        clearTimeout(timer);
        resolve();
      });
      this.zongji.stop();
    });
  }

  private handle(event: AnyBinlogEvent): void {
    const name = event.getEventName();
    const start = event.nextPosition > 0 ? event.nextPosition - event.size - HEADER_BYTES : this.cursor;
    if (name !== "rotate") this.cursor = start + event.size + HEADER_BYTES;
    switch (event.getTypeName()) {
      case "Rotate":
        if ("binlogName" in event && "position" in event) {
          this.file = event.binlogName;
          this.cursor = Number(event.position);
        }
        return;
      case "Xid":
        return this.commit(event.nextPosition, event.timestamp);
      case "Query":
        return this.query(event as QueryEvent);
      case "WriteRows":
      case "UpdateRows":
      case "DeleteRows":
        return this.rows(event as RowsEvent & { rows: unknown[] }, name, start);
      case "TransactionPayload":
      case "PartialUpdateRows":
        // zongji emits an 'error' naming the MySQL 8 setting (binlog_transaction_compression,
        // binlog_row_value_options=PARTIAL_JSON) that made these undecodable; that error stops the pipe.
        return;
      default:
        return;
    }
  }

  private commit(nextPosition: number, timestamp: number): void {
    const pos = nextPosition > 0 ? nextPosition : this.cursor;
    const gtid = this.zongji.gtidSet;
    this.boundary = gtid === undefined ? { file: this.file, pos } : { file: this.file, pos, gtid };
    this.opts.onItem({ kind: "commit", position: this.boundary, timestamp });
  }

  private query(event: QueryEvent): void {
    const text = event.query.trim();
    const upper = text.slice(0, 8).toUpperCase();
    if (upper.startsWith("COMMIT")) return this.commit(event.nextPosition, event.timestamp);
    if (upper.startsWith("BEGIN")) return;
    const alter = parseAlterTable(text);
    const database = alter?.database ?? event.schema;
    if (alter !== undefined && this.opts.table(database, alter.table) !== undefined) {
      this.opts.onItem({ kind: "alter", alter, schema: event.schema, position: this.boundary });
    }
    // DDL is a transaction of its own (implicit commit): the position after it is a boundary.
    this.commit(event.nextPosition, event.timestamp);
  }

  private rows(event: RowsEvent & { rows: unknown[] }, name: string, start: number): void {
    const entry = event.tableMap[event.tableId];
    if (entry === undefined) return;
    const schema = this.opts.table(entry.parentSchema, entry.tableName);
    if (schema === undefined) return;
    const fileNumber = binlogFileNumber(this.file);
    const position = encodeBinlogPosition(this.boundary);
    const now = Date.now();
    const records: RawRecord[] = [];
    event.rows.forEach((r, i) => {
      const version = binlogVersion(fileNumber, start, i);
      const base = { targetTable: schema.targetTable, version, timestamp: event.timestamp, stream: BINLOG_STREAM, position };
      if (name === "updaterows") {
        const { before, after } = r as UpdateRow;
        // A changed primary key moves the row: the old key's row is deleted, or it would stay live.
        if (schema.primaryKey.some((k) => !sameValue(before[k], after[k]))) records.push(mysqlChangeRecord(schema.columns, { ...base, op: "delete", row: before }, now));
        records.push(mysqlChangeRecord(schema.columns, { ...base, op: "update", row: after }, now));
      } else if (name === "deleterows") records.push(mysqlChangeRecord(schema.columns, { ...base, op: "delete", row: r as Record<string, unknown> }, now));
      else records.push(mysqlChangeRecord(schema.columns, { ...base, op: "insert", row: r as Record<string, unknown> }, now));
    });
    this.opts.onItem({ kind: "records", records });
  }
}
