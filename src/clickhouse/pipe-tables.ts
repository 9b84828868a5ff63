/**
 * The tables a pipe writes, in one place for the operator and the ingest core: each
 * destination table (created when managed, checked either way), the error table beside it,
 * and `clickpipes_log` and `clickpipes_state` (created, and the state table migrated).
 *
 * Two entry points with one check: `createPipeTables` runs DDL and needs admin rights (the
 * operator; `clickpipes run`), `checkPipeTables` runs no DDL and needs only what the pipe's
 * own user has (`clickpipes consume`), since on a real server CREATE TABLE IF NOT EXISTS is
 * refused without the CREATE TABLE privilege even when the table exists.
 *
 * ClickHouse failures (unreachable, access denied) are thrown for the caller to classify;
 * a spec that cannot work here is an outcome, not an exception.
 */
import type { ClickPipeSpec, ColumnSpec, TableDefinition } from "../api/index.js";
import type { SqlRunner } from "./client.js";
import { createTableSql, DdlError, errorTableName, errorTableSql, LOG_TABLE, logTableSql } from "./ddl.js";
import { filesTableName, filesTableSql } from "./files-table.js";
import { checkExistingTable, describeMismatches, readColumnsOf, writableColumns, type ActualColumn, type ExpectedColumn } from "./schema-check.js";
import { STATE_TABLE, stateMigrationSql, stateTableSql } from "./state-table.js";

export interface PipeTableSpec {
  readonly database: string;
  readonly table: string;
  /** Created from `columns` and `tableDefinition` when absent; never altered when present. */
  readonly managed: boolean;
  readonly columns?: readonly ColumnSpec[];
  readonly tableDefinition?: TableDefinition;
  /** Columns the table must have: the spec's columns (with their types) and the fieldMappings targets (by name). */
  readonly expected: readonly ExpectedColumn[];
  /** Shaped by the source itself (a CDC target table its consumer creates from the source schema): absent is not a problem yet. */
  readonly sourceShaped?: boolean;
  /** The source records its finished files beside the table (`<table>_clickpipes_archive`, files-table.ts). */
  readonly filesTable?: boolean;
  /** non_replicated_deduplication_window of the managed table (ddl.ts ManagedTableOptions). */
  readonly deduplicationWindow?: number;
}

/** The window a file source's managed table gets: as many insert blocks as Replicated tables keep by default. */
export const FILE_DEDUPLICATION_WINDOW = 1000;

export type TableProblem = "TableNotFound" | "SchemaMismatch" | "InvalidSpec";

export type TableOutcome =
  | {
      readonly ok: true;
      readonly database: string;
      readonly table: string;
      /** The columns the mapper fills: the spec's columns, else the table's columns that take inserted values. */
      readonly columns: ColumnSpec[];
    }
  | { readonly ok: false; readonly database: string; readonly table: string; readonly problem: TableProblem; readonly message: string };

/** The expected columns of the destination table: spec columns with their types, then mapping targets not already listed. */
function expectedColumns(spec: ClickPipeSpec): ExpectedColumn[] {
  const typed: ExpectedColumn[] = (spec.destination.columns ?? []).map((c) => ({ name: c.name, type: c.type }));
  const named = new Set(typed.map((c) => c.name));
  const mapped = (spec.fieldMappings ?? []).map((m) => m.destinationField).filter((name) => !named.has(name));
  return [...typed, ...[...new Set(mapped)].map((name) => ({ name }))];
}

/**
 * The table specs of a pipe. `tables` is what the source plugin writes (`sourcePlugin(spec)?.tables(spec)`):
 * `destination.table` takes the destination's managedTable, columns and tableDefinition;
 * any other table (a CDC table mapping) must exist and is used with all its columns, until
 * the CDC source describes its tables.
 */
export function pipeTableSpecs(spec: ClickPipeSpec, tables: readonly string[], opts: { sourceShaped?: boolean; filesTable?: boolean } = {}): PipeTableSpec[] {
  const d = spec.destination;
  const other = opts.sourceShaped === true ? { sourceShaped: true } : {};
  // A file source: its files table, and per-file insert deduplication tokens that need a window on a plain MergeTree.
  const files = opts.filesTable === true ? { filesTable: true, deduplicationWindow: FILE_DEDUPLICATION_WINDOW } : {};
  return [...new Set(tables)].map((table) =>
    table === d.table
      ? { database: d.database, table, managed: d.managedTable, columns: d.columns, tableDefinition: d.tableDefinition, expected: expectedColumns(spec), ...files }
      : { database: d.database, table, managed: false, expected: [], ...other },
  );
}

function notFound(spec: PipeTableSpec, table: string, fix: string): TableOutcome {
  return { ok: false, database: spec.database, table, problem: "TableNotFound", message: `table ${spec.database}.${table} does not exist (or the user has no privilege on it): ${fix}` };
}

/** The pure decision on one destination table from its columns as system.columns shows them. */
export function judgeTable(spec: PipeTableSpec, actual: readonly ActualColumn[] | undefined): TableOutcome {
  // The consumer creates it from the source schema before it inserts (SourcePlugin.prepareDestination).
  if (actual === undefined && spec.sourceShaped === true) return { ok: true, database: spec.database, table: spec.table, columns: [] };
  if (actual === undefined) {
    const fix = spec.managed ? "the operator (or `clickpipes run`) creates it at setup" : "create the table, or set managedTable: true with columns";
    return notFound(spec, spec.table, fix);
  }
  const mismatches = checkExistingTable(spec.expected, actual);
  if (mismatches.length > 0) {
    return { ok: false, database: spec.database, table: spec.table, problem: "SchemaMismatch", message: describeMismatches(`${spec.database}.${spec.table}`, mismatches) };
  }
  const columns = spec.columns !== undefined ? [...spec.columns] : writableColumns(actual).map((c) => ({ name: c.name, type: c.type }));
  return { ok: true, database: spec.database, table: spec.table, columns };
}

/** Failures of the bookkeeping tables a consumer writes: absent, or a state table still in an earlier release's shape. */
function judgeBookkeeping(spec: PipeTableSpec, found: ReadonlyMap<string, ActualColumn[]>): TableOutcome[] {
  const setup = "the operator (or `clickpipes run`) creates it at setup";
  const files = spec.filesTable === true ? [filesTableName(spec.table)] : [];
  const missing = [errorTableName(spec.table), ...files, LOG_TABLE, STATE_TABLE].filter((t) => !found.has(t)).map((t) => notFound(spec, t, setup));
  const state = found.get(STATE_TABLE);
  if (state === undefined || stateMigrationSql(spec.database, state).length === 0) return missing;
  const message = `table ${spec.database}.${STATE_TABLE} has an earlier release's columns: the operator (or \`clickpipes run\`) migrates it at setup`;
  return [...missing, { ok: false, database: spec.database, table: STATE_TABLE, problem: "SchemaMismatch", message }];
}

function byDatabase(specs: readonly PipeTableSpec[]): Map<string, PipeTableSpec[]> {
  const groups = new Map<string, PipeTableSpec[]>();
  for (const spec of specs) groups.set(spec.database, [...(groups.get(spec.database) ?? []), spec]);
  return groups;
}

function tablesToRead(specs: readonly PipeTableSpec[]): string[] {
  return [...specs.flatMap((s) => [s.table, errorTableName(s.table), ...(s.filesTable === true ? [filesTableName(s.table)] : [])]), LOG_TABLE, STATE_TABLE];
}

/**
 * Checks, without any DDL, that every table of the pipe exists with the columns it needs;
 * one outcome per destination table, then one failure per missing or outdated bookkeeping
 * table. Needs only the pipe user's grants: system.columns shows a user the columns of
 * every table it holds any privilege on.
 */
export async function checkPipeTables(client: SqlRunner, specs: readonly PipeTableSpec[]): Promise<TableOutcome[]> {
  const outcomes: TableOutcome[] = [];
  for (const [database, group] of byDatabase(specs)) {
    const found = await readColumnsOf(client, database, tablesToRead(group));
    outcomes.push(...group.map((spec) => judgeTable(spec, found.get(spec.table))));
    const bookkeeping = group.flatMap((spec) => judgeBookkeeping(spec, found));
    outcomes.push(...bookkeeping.filter((o, i) => bookkeeping.findIndex((p) => p.table === o.table) === i));
  }
  return outcomes;
}

async function run(client: SqlRunner, query: string): Promise<void> {
  await client.command({ query });
}

/** CREATE TABLE of a managed table, or the InvalidSpec outcome of a spec that cannot become one. */
async function createManaged(client: SqlRunner, spec: PipeTableSpec): Promise<TableOutcome | undefined> {
  let sql: string;
  try {
    const opts = spec.deduplicationWindow === undefined ? {} : { deduplicationWindow: spec.deduplicationWindow };
    sql = createTableSql({ database: spec.database, table: spec.table, columns: spec.columns ? [...spec.columns] : undefined, tableDefinition: spec.tableDefinition }, opts);
  } catch (e) {
    if (e instanceof DdlError) return { ok: false, database: spec.database, table: spec.table, problem: "InvalidSpec", message: e.message };
    throw e;
  }
  await run(client, sql);
  return undefined;
}

/** The log and state tables of one database, the state table brought to today's shape. */
async function createBookkeeping(client: SqlRunner, database: string): Promise<void> {
  await run(client, logTableSql(database));
  await run(client, stateTableSql(database));
  const state = (await readColumnsOf(client, database, [STATE_TABLE])).get(STATE_TABLE) ?? [];
  for (const sql of stateMigrationSql(database, state)) await run(client, sql);
}

/**
 * With admin rights: creates `clickpipes_log` and `clickpipes_state` (migrating an earlier
 * state table in place), every managed table, then checks every table and creates the
 * error table beside each one that can be written. One outcome per destination table.
 */
export async function createPipeTables(client: SqlRunner, specs: readonly PipeTableSpec[]): Promise<TableOutcome[]> {
  const outcomes: TableOutcome[] = [];
  for (const [database, group] of byDatabase(specs)) {
    await createBookkeeping(client, database);
    const invalid = new Map<string, TableOutcome>();
    for (const spec of group.filter((s) => s.managed)) {
      const outcome = await createManaged(client, spec);
      if (outcome !== undefined) invalid.set(spec.table, outcome);
    }
    const found = await readColumnsOf(client, database, group.map((s) => s.table));
    for (const spec of group) {
      const outcome = invalid.get(spec.table) ?? judgeTable(spec, found.get(spec.table));
      if (outcome.ok) await run(client, errorTableSql(database, spec.table));
      if (outcome.ok && spec.filesTable === true) await run(client, filesTableSql(database, spec.table));
      outcomes.push(outcome);
    }
  }
  return outcomes;
}
