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
