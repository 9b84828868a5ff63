/**
 * Checks an existing destination table against what the pipe will write, so a pipe that
 * cannot work fails at start with every problem named rather than batch after batch.
 */
import type { SqlRunner } from "./client.js";
import { formatType, parseType, ParseTypeError } from "./type-parser.js";

/** A column the pipe writes; without `type` only its presence is checked (a mapping target). */
export interface ExpectedColumn {
  readonly name: string;
  readonly type?: string;
}

/** A column as system.columns reports it. */
export interface ActualColumn {
  readonly name: string;
  readonly type: string;
  /** `""`, `DEFAULT`, `MATERIALIZED`, `ALIAS` or `EPHEMERAL`. */
  readonly defaultKind?: string;
}

export type SchemaMismatch =
  | { readonly kind: "missing"; readonly column: string; readonly expected?: string; readonly message: string }
  | { readonly kind: "type"; readonly column: string; readonly expected: string; readonly actual: string; readonly message: string }
  | { readonly kind: "notWritable"; readonly column: string; readonly actual: string; readonly message: string };

/** Canonical spelling, so `DateTime64(3,'UTC')` equals `DateTime64(3, 'UTC')`; unparsable text compares without spaces. */
function canonical(type: string): string {
  try {
    return formatType(parseType(type));
  } catch (e) {
    if (e instanceof ParseTypeError) return type.replace(/\s+/g, "");
    throw e;
  }
}

const notWritableKinds: ReadonlySet<string> = new Set(["MATERIALIZED", "ALIAS"]);

function checkColumn(want: ExpectedColumn, have: ActualColumn | undefined): SchemaMismatch | undefined {
  if (have === undefined) {
    const typeNote = want.type === undefined ? "" : ` (${want.type})`;
    return { kind: "missing", column: want.name, expected: want.type, message: `column "${want.name}"${typeNote} does not exist in the table` };
  }
  if (have.defaultKind !== undefined && notWritableKinds.has(have.defaultKind)) {
    return { kind: "notWritable", column: want.name, actual: have.defaultKind, message: `column "${want.name}" is ${have.defaultKind} and cannot be written` };
  }
  if (want.type === undefined) return undefined;
  const expected = canonical(want.type);
  const actual = canonical(have.type);
  if (expected === actual) return undefined;
  return { kind: "type", column: want.name, expected, actual, message: `column "${want.name}" has type ${actual} in the table, but the pipe expects ${expected}` };
}

/** Every expected column missing from, or typed differently in, the actual table; empty when it fits. */
export function checkExistingTable(expected: readonly ExpectedColumn[], actual: readonly ActualColumn[]): SchemaMismatch[] {
  const byName = new Map(actual.map((c) => [c.name, c]));
  return expected.flatMap((want) => checkColumn(want, byName.get(want.name)) ?? []);
}

/** One message for all mismatches of a table, e.g. for a start-up failure or a status condition. */
export function describeMismatches(table: string, mismatches: readonly SchemaMismatch[]): string {
  return `table ${table} does not match the pipe: ${mismatches.map((m) => m.message).join("; ")}`;
}

interface ColumnRow {
  name: string;
  type: string;
  default_kind: string;
}

interface TableColumnRow extends ColumnRow {
  table: string;
}

/** Columns that receive inserted values: MATERIALIZED and ALIAS columns are computed by the server. */
export function writableColumns(columns: readonly ActualColumn[]): ActualColumn[] {
  return columns.filter((c) => c.defaultKind === undefined || !notWritableKinds.has(c.defaultKind));
}

/**
 * Columns of several tables of one database in one query, by table; a table that does not
 * exist, or that the user has no privilege on (system.columns hides it), is absent.
 */
export async function readColumnsOf(client: SqlRunner, database: string, tables: readonly string[]): Promise<Map<string, ActualColumn[]>> {
  const byTable = new Map<string, ActualColumn[]>();
  if (tables.length === 0) return byTable;
  const result = await client.query({
    query: "SELECT table, name, type, default_kind FROM system.columns WHERE database = {database:String} AND has({tables:Array(String)}, table) ORDER BY table, position",
    query_params: { database, tables: [...tables] },
    format: "JSONEachRow",
  });
  for (const r of await result.json<TableColumnRow>()) {
    const columns = byTable.get(r.table) ?? [];
    columns.push({ name: r.name, type: r.type, defaultKind: r.default_kind });
    byTable.set(r.table, columns);
  }
  return byTable;
}

/** Columns of a table in order, or undefined when the table does not exist (or is not visible to the user). */
export async function readTableColumns(client: SqlRunner, database: string, table: string): Promise<ActualColumn[] | undefined> {
  const result = await client.query({
    query: "SELECT name, type, default_kind FROM system.columns WHERE database = {database:String} AND table = {table:String} ORDER BY position",
    query_params: { database, table },
    format: "JSONEachRow",
  });
  const rows = await result.json<ColumnRow>();
  if (rows.length === 0) return undefined;
  return rows.map((r) => ({ name: r.name, type: r.type, defaultKind: r.default_kind }));
}
