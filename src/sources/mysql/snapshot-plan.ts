/**
 * How a table's initial load is split: primary-key ranges of about
 * snapshotNumRowsPerPartition rows. Fixed once and stored in the checkpoint store (stream
 * `snapshot/<target>`, cdc/snapshot-plan.ts), so a restarted consumer re-reads only the
 * ranges that are not `done`, with the same boundaries.
 */
import type { Connection, RowDataPacket } from "mysql2/promise";
import { type TableSchema, quoteIdent } from "./schema.js";

/** A primary-key value tuple, JSON-safe (numbers and strings as mysql2 reads them with VALUE_OPTIONS). */
export type KeyTuple = readonly (string | number)[];

export interface KeyRange {
  readonly targetTable: string;
  readonly index: number;
  /** Exclusive lower bound; absent: from the first key. */
  readonly after?: KeyTuple;
  /** Inclusive upper bound; absent: to the last key. */
  readonly upTo?: KeyTuple;
}

/** A table's boundaries as stored: `{"boundaries":[[k1...],...]}`. */
export function encodeBoundaries(boundaries: readonly KeyTuple[]): string {
  return JSON.stringify({ boundaries });
}

/** Stored boundaries, or undefined when absent or not this source's (the table is planned afresh). */
export function decodeBoundaries(stored: string | undefined): KeyTuple[] | undefined {
  if (stored === undefined) return undefined;
  try {
    const v = JSON.parse(stored) as { boundaries?: unknown };
    if (!Array.isArray(v.boundaries)) return undefined;
    const ok = v.boundaries.every((t) => Array.isArray(t) && t.every((x) => typeof x === "string" || typeof x === "number"));
    return ok ? (v.boundaries as KeyTuple[]) : undefined;
  } catch {
    // Written by another release: plan again (rows already in are replaced, not duplicated).
    return undefined;
  }
}

/** The ranges of one table from its boundaries (n boundaries make n+1 ranges). */
export function rangesOf(targetTable: string, boundaries: readonly KeyTuple[]): KeyRange[] {
  const ranges: KeyRange[] = [];
  for (let i = 0; i <= boundaries.length; i += 1) {
    const after = boundaries[i - 1];
    const upTo = boundaries[i];
    ranges.push({ targetTable, index: i, ...(after === undefined ? {} : { after }), ...(upTo === undefined ? {} : { upTo }) });
  }
  return ranges;
}

/** The WHERE clause and parameters that select one range, with the key compared as a row constructor. */
export function rangeFilter(primaryKey: readonly string[], range: KeyRange): { sql: string; params: (string | number)[] } {
  const key = `(${primaryKey.map((c) => quoteIdent(c)).join(", ")})`;
  const marks = `(${primaryKey.map(() => "?").join(", ")})`;
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (range.after !== undefined) {
    parts.push(`${key} > ${marks}`);
    params.push(...range.after);
  }
  if (range.upTo !== undefined) {
    parts.push(`${key} <= ${marks}`);
    params.push(...range.upTo);
  }
  return { sql: parts.length === 0 ? "" : ` WHERE ${parts.join(" AND ")}`, params };
}

/** Key columns whose values survive JSON: integers, decimals, text and temporal text. Others make one range. */
const SPLITTABLE = /^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|char|varchar|date|datetime|timestamp|year)$/;

interface KeyRow extends RowDataPacket {
  [column: string]: unknown;
}

function tupleOf(row: KeyRow, primaryKey: readonly string[]): KeyTuple {
  return primaryKey.map((c) => {
    const v = row[c];
    return typeof v === "number" ? v : String(v);
  });
}

/**
 * Boundaries every `rowsPerRange` keys, walking the primary-key index (each query skips
 * `rowsPerRange` index entries after the previous boundary, so the walk reads the index
 * once). Runs inside the snapshot's transaction; the ranges cover every key whatever
 * changes later, since the first and last are open.
 */
export async function planTable(conn: Connection, schema: TableSchema, rowsPerRange: number): Promise<KeyTuple[]> {
  const pk = schema.primaryKey;
  const splittable = pk.length > 0 && pk.every((c) => SPLITTABLE.test(schema.columns.find((col) => col.name === c)?.dataType ?? ""));
  if (!splittable) return [];
  const cols = pk.map((c) => quoteIdent(c)).join(", ");
  const boundaries: KeyTuple[] = [];
  for (;;) {
    const last = boundaries.at(-1);
    const filter = rangeFilter(pk, { targetTable: schema.targetTable, index: 0, ...(last === undefined ? {} : { after: last }) });
    const [rows] = await conn.query<KeyRow[]>(`SELECT ${cols} FROM ${quoteIdent(schema.database, schema.table)}${filter.sql} ORDER BY ${cols} LIMIT 1 OFFSET ${rowsPerRange - 1}`, filter.params);
    const row = rows[0];
    if (row === undefined) return boundaries;
    boundaries.push(tupleOf(row, pk));
  }
}
