/**
 * Unchanged TOASTed values. An UPDATE that does not touch a large (out-of-line) value does
 * not carry it in pgoutput unless the table has REPLICA IDENTITY FULL. The previous value is
 * taken from an earlier change of the same row in the same transaction, else read back from
 * the target table (after what the sink holds is inserted), so it is never blanked. Where it
 * cannot be found the row goes in without it and the table is named in a warning with the fix.
 */
import type { SqlRunner } from "../../clickhouse/client.js";
import { quoteIdent, quoteString } from "../../clickhouse/client.js";
import { CDC_COLUMNS } from "../cdc/model.js";

export interface ToastGap {
  readonly table: string;
  readonly orderBy: readonly string[];
  readonly values: Record<string, unknown>;
  readonly missing: readonly string[];
}

export function keyOf(orderBy: readonly string[], values: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(orderBy.map((k) => String(values[k])));
}

function literal(value: unknown): string {
  return typeof value === "number" || typeof value === "boolean" ? String(value) : quoteString(String(value));
}

/** Previous values of `gaps` (all of one table) from the target table, by key. */
export async function previousValues(client: SqlRunner, database: string, gaps: readonly ToastGap[]): Promise<Map<string, Record<string, unknown>>> {
  const first = gaps[0];
  if (first === undefined) return new Map();
  const columns = [...new Set(gaps.flatMap((g) => g.missing))];
  const keyTuple = `(${first.orderBy.map(quoteIdent).join(", ")})`;
  const keys = gaps.map((g) => `(${first.orderBy.map((k) => literal(g.values[k])).join(", ")})`);
  const query = `SELECT ${[...first.orderBy, ...columns].map(quoteIdent).join(", ")} FROM ${quoteIdent(database)}.${quoteIdent(first.table)} FINAL
WHERE ${keyTuple} IN (${keys.join(", ")}) AND ${CDC_COLUMNS.isDeleted} = 0 SETTINGS output_format_json_quote_decimals = 1`;
  const result = await client.query({ query, format: "JSONEachRow" });
  const rows = await result.json<Record<string, unknown>>();
  return new Map(rows.map((r) => [keyOf(first.orderBy, r), r]));
}

/**
 * Fallback for gaps ClickHouse cannot fill (the row's earlier version was never loaded: a
 * row moved between CTID ranges while an interrupted snapshot was resumed): the value as
 * Postgres has it now. Later changes of that column carry their values, so the row ends equal.
 * `keys` are the key columns' text as Postgres printed them; returns text tuples by key.
 */
export async function currentValues(
  client: { query(text: string, values: unknown[]): Promise<{ rows: Record<string, string | null>[] }> },
  table: { schema: string; name: string; orderBy: readonly string[]; columns: readonly string[] },
  keys: readonly (readonly string[])[],
): Promise<Map<string, Record<string, string | null>>> {
  const q = (n: string): string => `"${n.replaceAll('"', '""')}"`;
  const keyExpr = table.orderBy.map((k) => `${q(k)}::text`).join(", ");
  const params = table.orderBy.map((_, i) => keys.map((k) => k[i] ?? ""));
  const unnest = table.orderBy.map((_, i) => `$${i + 1}::text[]`).join(", ");
  const select = [...table.orderBy.map((k) => `${q(k)}::text AS ${q(`key_${k}`)}`), ...table.columns.map((c) => q(c))].join(", ");
  const sql = `SELECT ${select} FROM ${q(table.schema)}.${q(table.name)} WHERE (${keyExpr}) IN (SELECT * FROM unnest(${unnest}))`;
  const result = await client.query(sql, params);
  return new Map(result.rows.map((r) => [JSON.stringify(table.orderBy.map((k) => r[`key_${k}`])), r]));
}
