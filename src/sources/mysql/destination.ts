/**
 * The target tables, made from the source schema before the core checks them
 * (SourcePlugin.prepareDestination): created when absent; when present, brought to the
 * source's current columns (a consumer that died between a source ALTER and its ClickHouse
 * ALTER would otherwise never add the column, since the source already has it).
 */
import { createConnection } from "mysql2/promise";
import type { MysqlSource } from "../../api/index.js";
import type { SqlRunner } from "../../clickhouse/client.js";
import { destinationError } from "../../ingest/destination-errors.js";
import type { Logger } from "../../ingest/logger.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import { CDC_COLUMNS, type SourceColumn } from "../cdc/model.js";
import { alterSql, planSchemaChange } from "../cdc/schema-changes.js";
import { targetTableOf, targetTableSql } from "../cdc/target-table.js";
import { openEndpoint } from "./endpoint.js";
import { mysqlError } from "./errors.js";
import { type TableSchema, cdcSourceTable, readTableSchema } from "./schema.js";

const CDC_NAMES = new Set<string>(Object.values(CDC_COLUMNS));

/** The target's columns as a "before" for planSchemaChange: a column the source still has counts as unchanged. */
export function targetAsBefore(existing: readonly { name: string; type: string }[], source: readonly SourceColumn[]): SourceColumn[] {
  const byName = new Map(source.map((c) => [c.name, c]));
  return existing
    .filter((c) => !CDC_NAMES.has(c.name))
    .map((c) => byName.get(c.name) ?? { name: c.name, sourceType: `(ClickHouse ${c.type})`, clickhouseType: c.type, nullable: c.type.startsWith("Nullable(") });
}

async function readSchemas(spec: MysqlSource, secrets: SecretResolver): Promise<TableSchema[]> {
  const endpoint = await openEndpoint(spec, secrets);
  try {
    const conn = await createConnection(endpoint.connection);
    try {
      return await Promise.all(spec.tableMappings.map((m) => readTableSchema(conn, m)));
    } finally {
      await conn.end();
    }
  } catch (err) {
    throw mysqlError("read the mapped tables' columns", err);
  } finally {
    await endpoint.close();
  }
}

async function run(clickhouse: SqlRunner, query: string): Promise<void> {
  try {
    await clickhouse.command({ query });
  } catch (err) {
    throw destinationError(err, { query });
  }
}

export async function prepareMysqlTargets(spec: MysqlSource, deps: { secrets: SecretResolver; clickhouse: SqlRunner; database: string; logger: Logger }): Promise<void> {
  const schemas = await readSchemas(spec, deps.secrets);
  for (const schema of schemas) {
    const mapping = spec.tableMappings.find((m) => m.targetTable === schema.targetTable);
    if (mapping === undefined) continue;
    const source = cdcSourceTable(schema);
    const target = targetTableOf(deps.database, mapping, source);
    await run(deps.clickhouse, targetTableSql(target));
    let existing: { name: string; type: string }[];
    try {
      const result = await deps.clickhouse.query({ query: "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position", query_params: { db: deps.database, t: target.table }, format: "JSONEachRow" });
      existing = await result.json<{ name: string; type: string }>();
    } catch (err) {
      throw destinationError(err, { table: target.table });
    }
    const plan = planSchemaChange(target.table, targetAsBefore(existing, source.columns), source.columns.filter((c) => !(mapping.excludedColumns ?? []).includes(c.name)), target.orderBy);
    for (const alter of plan.alters) await run(deps.clickhouse, alterSql(deps.database, target.table, alter));
    for (const problem of plan.problems) deps.logger.warn({ table: target.table, problem }, "target table differs from the source");
    if (plan.alters.length > 0) deps.logger.info({ table: target.table, alters: plan.alters }, "target table brought to the source's columns");
  }
}
