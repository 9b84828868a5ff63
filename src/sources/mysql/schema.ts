import type { Connection, RowDataPacket } from "mysql2/promise";
import type { RelationalTableMapping } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SourceTable } from "../cdc/model.js";
import type { ColumnChange } from "./ddl.js";
import { type MappedType, type MysqlColumn, clickhouseType } from "./types.js";

/** A replicated column: its source description and how it lands in ClickHouse. */
export interface TableColumn extends MysqlColumn {
  readonly mapped: MappedType;
}

/** A mapped source table as the pipe replicates it now. */
export interface TableSchema {
  readonly database: string;
  readonly table: string;
  readonly targetTable: string;
  /** Replicated columns in source order (excludedColumns left out). */
  readonly columns: readonly TableColumn[];
  /** Primary-key column names in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
  /** The mapping's excludedColumns: never replicated, also when added later. */
  readonly excluded: readonly string[];
}

interface ColumnRow extends RowDataPacket {
  COLUMN_NAME: string;
  DATA_TYPE: string;
  COLUMN_TYPE: string;
  IS_NULLABLE: string;
  NUMERIC_PRECISION: number | string | null;
  NUMERIC_SCALE: number | string | null;
  DATETIME_PRECISION: number | string | null;
  COLUMN_KEY: string;
}

interface KeyRow extends RowDataPacket {
  COLUMN_NAME: string;
}

const num = (v: number | string | null): number | undefined => (v === null ? undefined : Number(v));

export function sourceColumn(r: ColumnRow): MysqlColumn {
  const precision = num(r.NUMERIC_PRECISION);
  const scale = num(r.NUMERIC_SCALE);
  const fsp = num(r.DATETIME_PRECISION);
  return {
    name: r.COLUMN_NAME,
    dataType: r.DATA_TYPE.toLowerCase(),
    columnType: r.COLUMN_TYPE,
    nullable: r.IS_NULLABLE === "YES",
    ...(precision === undefined ? {} : { precision }),
    ...(scale === undefined ? {} : { scale }),
    ...(fsp === undefined ? {} : { fsp }),
  };
}

/** The columns the pipe replicates, mapped; a type this release cannot map is a ConfigError naming it. */
export function mapColumns(where: string, columns: readonly MysqlColumn[], excluded: readonly string[]): TableColumn[] {
  const skip = new Set(excluded);
  return columns
    .filter((c) => !skip.has(c.name))
    .map((c) => {
      const mapped = clickhouseType(c);
      if (mapped === undefined) {
        throw new ConfigError(`${where}.${c.name}: column type ${c.columnType} is not replicated by this release; add it to excludedColumns`, { column: c.name });
      }
      return { ...c, mapped };
    });
}

/** Reads a mapped table's columns and primary key from information_schema. */
export async function readTableSchema(conn: Connection, mapping: RelationalTableMapping): Promise<TableSchema> {
  const where = `${mapping.sourceSchemaName}.${mapping.sourceTable}`;
  const [rows] = await conn.query<ColumnRow[]>(
    "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    [mapping.sourceSchemaName, mapping.sourceTable],
  );
  if (rows.length === 0) throw new ConfigError(`source table ${where} does not exist (or the replication user cannot see it)`, { table: where });
  const [keys] = await conn.query<KeyRow[]>(
    "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
    [mapping.sourceSchemaName, mapping.sourceTable],
  );
  return {
    database: mapping.sourceSchemaName,
    table: mapping.sourceTable,
    targetTable: mapping.targetTable,
    columns: mapColumns(where, rows.map(sourceColumn), mapping.excludedColumns ?? []),
    primaryKey: keys.map((k) => k.COLUMN_NAME),
    excluded: mapping.excludedColumns ?? [],
  };
}

/** `db.table`, the key of a source table in the source's maps. */
export function tableKey(database: string, table: string): string {
  return `${database}.${table}`;
}

/**
 * The table after an ALTER's column changes (pure). An added column of a type this release
 * does not map is left out and named in `skipped`, like an excluded column; adding a column
 * that is already there, or dropping one that is not, changes nothing (a replayed ALTER).
 */
export function applyColumnChanges(schema: TableSchema, changes: readonly ColumnChange[]): { schema: TableSchema; skipped: string[] } {
  let columns = [...schema.columns];
  const skipped: string[] = [];
  for (const change of changes) {
    if (change.kind === "drop") columns = columns.filter((c) => c.name !== change.name);
    if (change.kind !== "add" || schema.excluded.includes(change.column.name) || columns.some((c) => c.name === change.column.name)) continue;
    const mapped = clickhouseType(change.column);
    if (mapped === undefined) skipped.push(`${change.column.name} (${change.column.columnType})`);
    else columns.push({ ...change.column, mapped });
  }
  return { schema: { ...schema, columns }, skipped };
}

/** The table in the shared CDC model (target table DDL, schema-change decisions). */
export function cdcSourceTable(schema: TableSchema): SourceTable {
  return {
    schema: schema.database,
    name: schema.table,
    columns: schema.columns.map((c) => ({ name: c.name, sourceType: c.columnType, clickhouseType: c.mapped.type, nullable: c.mapped.type.startsWith("Nullable(") })),
    primaryKey: schema.primaryKey,
  };
}

/** `db`.`table` with backquotes doubled. */
export function quoteIdent(...parts: string[]): string {
  return parts.map((p) => "`" + p.replaceAll("`", "``") + "`").join(".");
}
