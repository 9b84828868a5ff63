/**
 * DDL of the tables a pipe writes: the managed destination table, the error table beside
 * it, and the per-database `clickpipes_log` and `clickpipes_state` tables
 * (docs/design/contracts.md). Pure builders: they return SQL text and never run it.
 */
import type { ColumnSpec, Destination } from "../api/index.js";
import { quoteIdent } from "./client.js";
import { formatType, parseType, ParseTypeError, type ChType } from "./type-parser.js";

export { checkExistingTable, describeMismatches, readTableColumns, type ActualColumn, type ExpectedColumn, type SchemaMismatch } from "./schema-check.js";
// The state table's SQL lives beside its migration and its reads; callers find it here too.
export { checkpointsSql, stateMigrationSql, stateTableSql, stateTotalsSql } from "./state-table.js";

export const ERROR_TABLE_SUFFIX = "_clickpipes_error";
export const LOG_TABLE = "clickpipes_log";
export { STATE_TABLE } from "./state-table.js";

/** A spec that cannot become a table: names the field, the value and what is accepted. */
export class DdlError extends Error {
  override readonly name = "DdlError";
}

export type ManagedTableSpec = Pick<Destination, "database" | "table" | "columns" | "tableDefinition">;

export function errorTableName(table: string): string {
  return `${table}${ERROR_TABLE_SUFFIX}`;
}

function qualified(db: string, table: string): string {
  return `${quoteIdent(db)}.${quoteIdent(table)}`;
}

function parseColumnType(column: ColumnSpec): ChType {
  try {
    return parseType(column.type);
  } catch (e) {
    if (e instanceof ParseTypeError) throw new DdlError(`columns: column "${column.name}": ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Partition and primary key expressions are SQL the user writes; they go into the
 * statement verbatim, so anything that could end the expression early is refused.
 */
function checkExpression(field: string, expr: string): string {
  const accepted = "expected one SQL expression such as toYYYYMM(ts)";
  // Quoted parts cannot end the expression; what is left must be balanced and comment-free.
  const unquoted = expr.replace(/'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`|"(?:\\.|[^"\\])*"/g, "");
  const forbidden = [";", "--", "/*", "#", "'", "`", '"'].find((t) => unquoted.includes(t));
  if (forbidden !== undefined) {
    throw new DdlError(`tableDefinition.${field}: ${JSON.stringify(expr)} contains ${JSON.stringify(forbidden)} outside a complete literal; ${accepted}`);
  }
  let depth = 0;
  for (const c of unquoted) {
    depth += c === "(" ? 1 : c === ")" ? -1 : 0;
    if (depth < 0) break;
  }
  if (depth !== 0) throw new DdlError(`tableDefinition.${field}: ${JSON.stringify(expr)} has unbalanced parentheses; ${accepted}`);
  return expr;
}

function requireColumns(field: string, names: readonly string[], known: ReadonlyMap<string, ChType>): void {
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new DdlError(`tableDefinition.${field}: ${unknown.map((n) => `"${n}"`).join(", ")} ${unknown.length === 1 ? "is not a column" : "are not columns"}; columns: ${[...known.keys()].join(", ")}`);
  }
}

function keyList(names: readonly string[]): string {
  return names.length === 1 ? quoteIdent(names[0] as string) : `(${names.map(quoteIdent).join(", ")})`;
}

/**
 * `ReplacingMergeTree([ver[, is_deleted]])`: ClickHouse takes is_deleted only after a version
 * column and only of type UInt8 (CDC tables: `ReplacingMergeTree(_peerdb_version, _peerdb_is_deleted)`).
 */
function replacingEngine(version: string | undefined, isDeleted: string | undefined, known: ReadonlyMap<string, ChType>): string {
  if (version === undefined) {
    if (isDeleted !== undefined) throw new DdlError("tableDefinition.engine.isDeletedColumnId: needs versionColumnId as well; set both or neither");
    return "ReplacingMergeTree";
  }
  requireColumns("engine.versionColumnId", [version], known);
  if (isDeleted === undefined) return `ReplacingMergeTree(${quoteIdent(version)})`;
  requireColumns("engine.isDeletedColumnId", [isDeleted], known);
  const type = known.get(isDeleted) as ChType;
  if (!(type.kind === "int" && !type.signed && type.bits === 8)) {
    throw new DdlError(`tableDefinition.engine.isDeletedColumnId: column "${isDeleted}" is ${formatType(type)}; the is_deleted column must be UInt8`);
  }
  return `ReplacingMergeTree(${quoteIdent(version)}, ${quoteIdent(isDeleted)})`;
}

function engineClause(spec: ManagedTableSpec, known: ReadonlyMap<string, ChType>): string {
  const engine = spec.tableDefinition?.engine;
  switch (engine?.type ?? "MergeTree") {
    case "ReplacingMergeTree":
      return replacingEngine(engine?.versionColumnId, engine?.isDeletedColumnId, known);
    case "SummingMergeTree":
      if (engine?.columnIds === undefined) return "SummingMergeTree";
      requireColumns("engine.columnIds", engine.columnIds, known);
      return `SummingMergeTree((${engine.columnIds.map(quoteIdent).join(", ")}))`;
    case "Null":
      return "Null";
    default:
      return "MergeTree";
  }
}

/** Table options a source asks for beyond the spec (not user-facing). */
export interface ManagedTableOptions {
  /**
   * `non_replicated_deduplication_window` of a plain MergeTree: a source that tags each
   * insert with an insert_deduplication_token (object storage: one per file version) needs
   * it so the retry of an insert cut by a crash adds no rows twice; Replicated and
   * SharedMergeTree deduplicate by default and ignore it.
   */
  readonly deduplicationWindow?: number;
}

function mergeTreeClauses(spec: ManagedTableSpec, known: ReadonlyMap<string, ChType>, opts: ManagedTableOptions = {}): string[] {
  const def = spec.tableDefinition;
  const sortingKey = def?.sortingKey ?? [];
  requireColumns("sortingKey", sortingKey, known);
  const clauses: string[] = [];
  if (def?.partitionBy !== undefined) clauses.push(`PARTITION BY ${checkExpression("partitionBy", def.partitionBy)}`);
  if (def?.primaryKey !== undefined) clauses.push(`PRIMARY KEY ${checkExpression("primaryKey", def.primaryKey)}`);
  clauses.push(`ORDER BY ${sortingKey.length === 0 ? "tuple()" : keyList(sortingKey)}`);
  // A Nullable key column is refused by ClickHouse unless the table allows it explicitly.
  const settings: string[] = [];
  if (sortingKey.some((n) => isNullableType(known.get(n) as ChType))) settings.push("allow_nullable_key = 1");
  if (opts.deduplicationWindow !== undefined) settings.push(`non_replicated_deduplication_window = ${Math.trunc(opts.deduplicationWindow)}`);
  if (settings.length > 0) clauses.push(`SETTINGS ${settings.join(", ")}`);
  return clauses;
}

function isNullableType(type: ChType): boolean {
  return type.kind === "nullable" || (type.kind === "lowCardinality" && type.inner.kind === "nullable");
}

/** `CREATE TABLE IF NOT EXISTS` of a managed destination table from its columns and tableDefinition. */
export function createTableSql(spec: ManagedTableSpec, opts: ManagedTableOptions = {}): string {
  if (spec.table === undefined) throw new DdlError("table: required for a managed table");
  const columns = spec.columns ?? [];
  if (columns.length === 0) throw new DdlError("columns: a managed table needs at least one column");
  const known = new Map<string, ChType>();
  for (const column of columns) {
    if (known.has(column.name)) throw new DdlError(`columns: "${column.name}" is listed twice`);
    known.set(column.name, parseColumnType(column));
  }
  const body = [...known].map(([name, type]) => `  ${quoteIdent(name)} ${formatType(type)}`).join(",\n");
  const engine = engineClause(spec, known);
  const clauses = engine === "Null" ? [] : mergeTreeClauses(spec, known, opts);
  return [`CREATE TABLE IF NOT EXISTS ${qualified(spec.database, spec.table)}`, `(\n${body}\n)`, `ENGINE = ${engine}`, ...clauses].join("\n");
}

/** The error table beside a destination table (contracts.md): bad records, kept 7 days. */
export function errorTableSql(db: string, table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(db, errorTableName(table))}
(
  time DateTime64(3, 'UTC'),
  pipe String,
  error_type LowCardinality(String),
  message String,
  raw_message String,
  source_position String
)
ENGINE = MergeTree
ORDER BY (pipe, time)
TTL toDateTime(time) + INTERVAL 7 DAY`;
}

/** The system error log of every pipe writing into the database (contracts.md), kept 30 days. */
export function logTableSql(db: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(db, LOG_TABLE)}
(
  time DateTime64(3, 'UTC'),
  pipe String,
  level LowCardinality(String),
  error_type LowCardinality(String),
  message String
)
ENGINE = MergeTree
ORDER BY (pipe, time)
TTL toDateTime(time) + INTERVAL 30 DAY`;
}
