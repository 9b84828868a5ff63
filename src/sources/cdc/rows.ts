/**
 * Change events → the records the ingest core inserts. A CDC plugin converts each source
 * value to the JSON ClickHouse reads for the target column (its own type map), then hands
 * the event here: the record's value is the whole target row as JSON with the three CDC
 * columns, and `record.table` names the target table, so the core inserts it as it is.
 */
import type { RawRecord } from "../../ingest/source.js";
import { CDC_COLUMNS } from "./model.js";

export type ChangeOp = "insert" | "update" | "delete";

/** One row-level change (or one snapshot row, op insert) with its target-column values already converted. */
export interface ChangeEvent {
  readonly op: ChangeOp;
  /** Target table. */
  readonly table: string;
  /** Target column → JSON value. A column absent here is not sent (ClickHouse fills its default). */
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * Orders versions of one row: a later change has a greater version. Postgres: the change's
   * WAL LSN; MySQL: a binlog-derived counter; snapshot rows: 0, so any replicated change wins.
   */
  readonly version: bigint;
  /** Commit time at the source (ms since the epoch); snapshot rows: the read time. */
  readonly timestamp: number;
  readonly stream: string;
  readonly position: string;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** `YYYY-MM-DD hh:mm:ss.fffffffff` in UTC, as ClickHouse reads a DateTime64(9) with basic input parsing. */
export function syncedAt(ms: number, nanosWithinMs = 0): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return `${date} ${time}.${pad(d.getUTCMilliseconds(), 3)}${pad(nanosWithinMs, 6)}`;
}

/** The target row of an event: its values, then `_peerdb_synced_at`, `_peerdb_is_deleted`, `_peerdb_version`. */
export function changeRow(event: ChangeEvent, now: number): Record<string, unknown> {
  return {
    ...event.values,
    [CDC_COLUMNS.syncedAt]: syncedAt(now),
    [CDC_COLUMNS.isDeleted]: event.op === "delete" ? 1 : 0,
    // Int64 as a string: JSON numbers lose precision past 2^53, ClickHouse reads quoted integers.
    [CDC_COLUMNS.version]: event.version.toString(),
  };
}

/** The record the core inserts for an event. */
export function changeRecord(event: ChangeEvent, now: number): RawRecord {
  return {
    value: Buffer.from(JSON.stringify(changeRow(event, now))),
    key: null,
    timestamp: event.timestamp,
    stream: event.stream,
    position: event.position,
    table: event.table,
    op: event.op,
  };
}
