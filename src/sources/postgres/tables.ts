/**
 * The mapped tables as the consumer works with them (catalog or stored shape, excluded
 * columns removed, sorting key), and the target tables created from them.
 */
import type pg from "pg";
import type { SqlRunner } from "../../clickhouse/client.js";
import { destinationError } from "../../ingest/destination-errors.js";
import type { PostgresSource } from "../../api/databases.js";
import type { TableMapping } from "../cdc/model.js";
import { targetTableOf, targetTableSql } from "../cdc/target-table.js";
import { readTable, type PgTable } from "./catalog.js";
import type { TableState } from "./rows.js";
import { decodeColumns, schemaStream } from "./schema-store.js";

export function mappingsOf(spec: PostgresSource): TableMapping[] {
  return spec.tableMappings.map((m) => ({ ...m }));
}

function stateOf(database: string, mapping: TableMapping, table: PgTable): TableState {
  const excluded = new Set(mapping.excludedColumns ?? []);
  const target = targetTableOf(database, mapping, table);
  return { mapping, columns: table.columns.filter((c) => !excluded.has(c.name)), orderBy: target.orderBy };
}

/** Reads every mapped table from the catalog. */
export async function readMapped(client: pg.ClientBase, mappings: readonly TableMapping[]): Promise<Map<TableMapping, PgTable>> {
  const tables = new Map<TableMapping, PgTable>();
  for (const m of mappings) tables.set(m, await readTable(client, m.sourceSchemaName, m.sourceTable));
  return tables;
}

/**
 * The consumer's view of each mapped table, keyed by `schema.table`: the shape last applied
 * to the target (from the checkpoint store) when there is one, else the catalog's.
 */
export function tableStates(database: string, tables: ReadonlyMap<TableMapping, PgTable>, checkpoints: ReadonlyMap<string, string>): Map<string, TableState> {
  const states = new Map<string, TableState>();
  for (const [mapping, table] of tables) {
    const state = stateOf(database, mapping, table);
    const stored = decodeColumns(checkpoints.get(schemaStream(mapping.targetTable)));
    states.set(`${mapping.sourceSchemaName}.${mapping.sourceTable}`, stored === undefined ? state : { ...state, columns: stored });
  }
  return states;
}

/** CREATE TABLE IF NOT EXISTS for each mapped table (`names` renames the ClickHouse table, for a resync's fresh copy). */
export async function createTargets(clickhouse: SqlRunner, database: string, tables: ReadonlyMap<TableMapping, PgTable>, names?: (m: TableMapping) => string): Promise<void> {
  for (const [mapping, table] of tables) {
    const target = targetTableOf(database, mapping, table);
    try {
      await clickhouse.command({ query: targetTableSql(target, names?.(mapping) ?? target.table) });
    } catch (err) {
      // ClickHouse down is retried like any destination failure; a refused DDL is not.
      throw destinationError(err, { table: target.table });
    }
  }
}
