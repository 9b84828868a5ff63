import type { RawRecord } from "../../ingest/source.js";
import { type ChangeOp, changeRecord } from "../cdc/rows.js";
import type { TableColumn } from "./schema.js";
import { toClickHouseValue } from "./types.js";

export interface MysqlChange {
  readonly targetTable: string;
  readonly op: ChangeOp;
  /** The row as mysql2 or zongji read it (the after image; the before image for a delete). */
  readonly row: Readonly<Record<string, unknown>>;
  readonly version: bigint;
  readonly timestamp: number;
  readonly stream: string;
  readonly position: string;
}

/**
 * A MySQL row change as the record the core inserts: each replicated column converted for
 * its ClickHouse type (types.ts), then the shared CDC row (cdc/rows.ts) adds the version,
 * the delete flag and the sync time. A delete carries the full before image (binlog_row_image
 * =FULL), so the row that replaces the live one is complete. Columns the row lacks (an event
 * written before an ADD COLUMN) are left out, so ClickHouse fills their default.
 */
export function mysqlChangeRecord(columns: readonly TableColumn[], change: MysqlChange, now: number): RawRecord {
  const values: Record<string, unknown> = {};
  for (const c of columns) {
    if (c.name in change.row) values[c.name] = toClickHouseValue(c.mapped.kind, change.row[c.name]);
  }
  return changeRecord(
    { op: change.op, table: change.targetTable, values, version: change.version, timestamp: change.timestamp, stream: change.stream, position: change.position },
    now,
  );
}
