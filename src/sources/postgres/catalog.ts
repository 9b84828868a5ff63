/**
 * What the Postgres catalog says: a table's columns (types resolved through domains), its
 * primary key, its size for snapshot planning, and the type of a column named by its
 * (oid, typmod) as pgoutput's Relation message gives it.
 */
import type pg from "pg";
import { SourceError } from "../../ingest/errors.js";
import type { SourceColumn, SourceTable } from "../cdc/model.js";
import { columnMapping, type ColumnMapping, type PgType } from "./types.js";

/** A source column with the conversion of its values. */
export interface PgColumn extends SourceColumn {
  readonly type: PgType;
  readonly mapping: ColumnMapping;
}

export interface PgTable extends SourceTable {
  readonly columns: readonly PgColumn[];
}

interface TypeRow {
  name: string;
  element: string | null;
  is_enum: boolean | string;
}

/**
 * The type of (oid, typmod): domains resolved to their base, arrays to their element.
 * `$1` oid, `$2` typmod. Used for catalog columns and Relation messages alike.
 */
const TYPE_SQL = `
WITH t AS (SELECT CASE WHEN typtype = 'd' THEN typbasetype ELSE oid END AS oid, CASE WHEN typtype = 'd' THEN typtypmod ELSE $2::int END AS mod FROM pg_type WHERE oid = $1::oid),
     b AS (SELECT pt.oid, pt.typelem, pt.typcategory, pt.typtype, t.mod FROM pg_type pt JOIN t ON pt.oid = t.oid),
     e AS (SELECT CASE WHEN et.typtype = 'd' THEN et.typbasetype ELSE et.oid END AS oid, et.typtype FROM pg_type et JOIN b ON et.oid = b.typelem WHERE b.typcategory = 'A')
SELECT format_type(b.oid, b.mod) AS name,
       (SELECT format_type(e.oid, NULL) FROM e) AS element,
       (b.typtype = 'e' OR EXISTS (SELECT 1 FROM e JOIN pg_type x ON x.oid = e.oid WHERE x.typtype = 'e')) AS is_enum
FROM b`;

function pgType(row: TypeRow): PgType {
  return { name: row.name, element: row.element ?? undefined, isEnum: row.is_enum === true || row.is_enum === "t" };
}

/** A Postgres failure as a SourceError: retriable unless a table or privilege is missing. */
export function sourceError(message: string, err: unknown, context: Record<string, unknown>): SourceError {
  if (err instanceof SourceError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  // A missing table or privilege will not fix itself; a dropped connection will.
  const permanent = /does not exist|permission denied/.test(detail);
  return new SourceError(`${message}: ${detail}`, { retriable: !permanent, cause: err, context });
}

export async function resolveType(client: pg.ClientBase, oid: number, typmod: number): Promise<PgType> {
  const result = await client.query<TypeRow>(TYPE_SQL, [oid, typmod]);
  const row = result.rows[0];
  if (row === undefined) throw new SourceError(`Postgres type oid ${oid} not found`, { retriable: false, context: { oid } });
  return pgType(row);
}

export function pgColumn(name: string, type: PgType, nullable: boolean): PgColumn {
  const mapping = columnMapping(type, nullable);
  return { name, type, sourceType: type.name, clickhouseType: mapping.clickhouseType, nullable, mapping };
}

interface AttributeRow {
  name: string;
  oid: string;
  typmod: string;
  nullable: boolean | string;
}

/** A table as the catalog describes it now. */
export async function readTable(client: pg.ClientBase, schema: string, name: string): Promise<PgTable> {
  const context = { table: `${schema}.${name}` };
  try {
    const rel = `${quoteIdent(schema)}.${quoteIdent(name)}`;
    const attrs = await client.query<AttributeRow>(
      `SELECT attname AS name, atttypid AS oid, atttypmod AS typmod, NOT attnotnull AS nullable FROM pg_attribute
        WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [rel],
    );
    if (attrs.rows.length === 0) throw new Error(`relation "${schema}.${name}" does not exist`);
    const columns: PgColumn[] = [];
    for (const a of attrs.rows) columns.push(pgColumn(a.name, await resolveType(client, Number(a.oid), Number(a.typmod)), a.nullable === true || a.nullable === "t"));
    const pk = await client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [rel],
    );
    return { schema, name, columns, primaryKey: pk.rows.map((r) => r.name) };
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw sourceError(`cannot read the columns of ${schema}.${name}`, err, context);
  }
}

/** Heap pages and estimated rows, for CTID partitioning (ANALYZE makes the estimate good; an empty estimate plans one partition). */
export async function tableSize(client: pg.ClientBase, schema: string, name: string): Promise<{ pages: number; rows: number }> {
  const rel = `${quoteIdent(schema)}.${quoteIdent(name)}`;
  const result = await client.query<{ pages: string; rows: string }>(
    `SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::int)::bigint AS pages, GREATEST(reltuples, 0)::bigint AS rows FROM pg_class WHERE oid = $1::regclass`,
    [rel],
  );
  const row = result.rows[0];
  return { pages: Number(row?.pages ?? 0), rows: Number(row?.rows ?? 0) };
}

/** Double-quotes a Postgres identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
