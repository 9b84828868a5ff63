/**
 * Source table → ClickHouse target table: `ReplacingMergeTree(_peerdb_version,
 * _peerdb_is_deleted)` ordered by the source primary key (or the mapping's sortingKeys), the
 * source columns minus the excluded ones, then the three CDC columns. Pure: SQL text only,
 * built by the one DDL builder of the project (src/clickhouse/ddl.ts).
 */
import { quoteIdent } from "../../clickhouse/client.js";
import { createTableSql } from "../../clickhouse/ddl.js";
import { ConfigError } from "../../ingest/errors.js";
import { CDC_COLUMNS, CDC_COLUMN_TYPES, qualifiedSource, type SourceTable, type TableMapping, type TargetTable } from "./model.js";

/** A key column is never Nullable in ClickHouse's ORDER BY unless the table allows it; the source key is NOT NULL anyway. */
function notNull(type: string): string {
  const m = /^Nullable\((.*)\)$/.exec(type);
  return m?.[1] ?? type;
}

function orderByOf(mapping: TableMapping, source: SourceTable, kept: ReadonlySet<string>): string[] {
  const keys = mapping.useCustomSortingKey === true && mapping.sortingKeys !== undefined ? [...mapping.sortingKeys] : [...source.primaryKey];
  if (keys.length === 0) {
    throw new ConfigError(
      `source table ${qualifiedSource(source)} has no primary key: set useCustomSortingKey: true and sortingKeys on its table mapping (target ${mapping.targetTable})`,
    );
  }
  const missing = keys.filter((k) => !kept.has(k));
  if (missing.length > 0) {
    throw new ConfigError(`table mapping ${mapping.targetTable}: sorting key column(s) ${missing.join(", ")} are not replicated columns of ${qualifiedSource(source)}`);
  }
  return keys;
}

/** The target table of one mapping, from the source table as it is now. */
export function targetTableOf(database: string, mapping: TableMapping, source: SourceTable): TargetTable {
  const excluded = new Set(mapping.excludedColumns ?? []);
  const columns = source.columns.filter((c) => !excluded.has(c.name));
  const kept = new Set(columns.map((c) => c.name));
  const orderBy = orderByOf(mapping, source, kept);
  const keySet = new Set(orderBy);
  return {
    database,
    table: mapping.targetTable,
    columns: [...columns.map((c) => ({ name: c.name, type: keySet.has(c.name) ? notNull(c.clickhouseType) : c.clickhouseType })), ...CDC_COLUMN_TYPES],
    orderBy,
    engine: mapping.tableEngine ?? "ReplacingMergeTree",
  };
}

/** `CREATE TABLE IF NOT EXISTS` of a target table (an existing one is left as it is; schema changes ALTER it). */
export function targetTableSql(target: TargetTable, name: string = target.table): string {
  const replacing = target.engine === "ReplacingMergeTree";
  return createTableSql({
    database: target.database,
    table: name,
    columns: target.columns.map((c) => ({ name: c.name, type: c.type })),
    tableDefinition: {
      engine: replacing ? { type: "ReplacingMergeTree", versionColumnId: CDC_COLUMNS.version, isDeletedColumnId: CDC_COLUMNS.isDeleted } : { type: target.engine },
      ...(target.engine === "Null" ? {} : { sortingKey: [...target.orderBy] }),
    },
  });
}

/**
 * Swaps a freshly loaded table in for the live one (resync): EXCHANGE TABLES is atomic on
 * the Atomic database engine, so queries see the old rows until the new ones are complete.
 */
export function swapTablesSql(database: string, live: string, fresh: string): string {
  return `EXCHANGE TABLES ${quoteIdent(database)}.${quoteIdent(live)} AND ${quoteIdent(database)}.${quoteIdent(fresh)}`;
}

export function dropTableSql(database: string, table: string): string {
  return `DROP TABLE IF EXISTS ${quoteIdent(database)}.${quoteIdent(table)}`;
}
