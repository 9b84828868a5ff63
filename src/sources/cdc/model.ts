/**
 * The CDC model shared by the Postgres and MySQL sources: a source table as the database
 * describes it, already mapped to ClickHouse types by the source's own type map, and the
 * ClickHouse table it is replicated into. Plain data; decisions live in the modules beside.
 * See docs/design/cdc.md.
 */

/** The columns every CDC target table carries, as ClickPipes names them. */
export const CDC_COLUMNS = {
  syncedAt: "_peerdb_synced_at",
  isDeleted: "_peerdb_is_deleted",
  version: "_peerdb_version",
} as const;

export const CDC_COLUMN_TYPES: readonly { readonly name: string; readonly type: string }[] = [
  { name: CDC_COLUMNS.syncedAt, type: "DateTime64(9)" },
  { name: CDC_COLUMNS.isDeleted, type: "UInt8" },
  { name: CDC_COLUMNS.version, type: "Int64" },
];

/** One source column: its name, the source's spelling of its type, and the ClickHouse type it maps to. */
export interface SourceColumn {
  readonly name: string;
  /** As the source prints it (Postgres `format_type`, MySQL `COLUMN_TYPE`), for messages and type-change detection. */
  readonly sourceType: string;
  /** The ClickHouse type of the target column (Nullable(...) when the source column is nullable). */
  readonly clickhouseType: string;
  readonly nullable: boolean;
}

/** A source table: qualified name, columns in source order, primary key column names in key order. */
export interface SourceTable {
  /** Postgres schema or MySQL database. */
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly SourceColumn[];
  readonly primaryKey: readonly string[];
}

/** The mapping a pipe holds for one table (the API's RelationalTableMapping, reduced to what CDC needs). */
export interface TableMapping {
  readonly sourceSchemaName: string;
  readonly sourceTable: string;
  readonly targetTable: string;
  readonly excludedColumns?: readonly string[] | undefined;
  readonly useCustomSortingKey?: boolean | undefined;
  readonly sortingKeys?: readonly string[] | undefined;
  readonly tableEngine?: "MergeTree" | "ReplacingMergeTree" | "Null" | undefined;
}

/** A column of a target table. */
export interface TargetColumn {
  readonly name: string;
  readonly type: string;
}

/** The ClickHouse table one mapping writes. */
export interface TargetTable {
  readonly database: string;
  readonly table: string;
  /** Source columns (excluded ones removed) then the three CDC columns. */
  readonly columns: readonly TargetColumn[];
  readonly orderBy: readonly string[];
  readonly engine: "MergeTree" | "ReplacingMergeTree" | "Null";
}

/** `schema.table` as both sources print a source table in messages and stream names. */
export function qualifiedSource(t: { readonly schema: string; readonly name: string }): string {
  return `${t.schema}.${t.name}`;
}

export function mappingKey(m: Pick<TableMapping, "sourceSchemaName" | "sourceTable">): string {
  return `${m.sourceSchemaName}.${m.sourceTable}`;
}
