import type { ClickHouseClient } from "@clickhouse/client";
import type { ClickPipe } from "../api/index.js";
import { checkExistingTable, createTableSql, errorTableSql, logTableSql, readTableColumns, stateTableSql } from "../clickhouse/ddl.js";
import { destinationError } from "./destination-errors.js";
import { ConfigError, SchemaMismatchError, errorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import type { ColumnSpec } from "./mapper.js";
import { retry } from "./retry.js";

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SchemaMismatchError) throw err;
    throw destinationError(err, { setup: what });
  }
}

async function command(client: ClickHouseClient, query: string): Promise<void> {
  await call(query.slice(0, 80), () => client.command({ query }));
}

/** The table's columns checked against the pipe's (the spec's columns, else the mapped ones by name). */
async function checkedColumns(client: ClickHouseClient, pipe: ClickPipe, table: string): Promise<ColumnSpec[]> {
  const dest = pipe.spec.destination;
  const actual = await call("read columns", () => readTableColumns(client, dest.database, table));
  if (actual === undefined) {
    throw new ConfigError(`destination table ${dest.database}.${table} does not exist; create it or set managedTable: true`);
  }
  const expected = dest.columns ?? (pipe.spec.fieldMappings ?? []).map((m) => ({ name: m.destinationField }));
  const mismatches = checkExistingTable(expected, actual);
  if (mismatches.length > 0) throw new SchemaMismatchError(`${dest.database}.${table}`, mismatches.map((m) => m.message));
  return dest.columns !== undefined ? [...dest.columns] : actual.filter((c) => c.defaultKind !== "MATERIALIZED" && c.defaultKind !== "ALIAS").map((c) => ({ name: c.name, type: c.type }));
}

/**
 * Create the error, log and state tables; create the managed table or check the existing
 * one. Returns the columns the mapper fills. Retries while ClickHouse is unreachable.
 */
export async function setUpDestination(client: ClickHouseClient, pipe: ClickPipe, logger: Logger, signal: AbortSignal): Promise<ColumnSpec[]> {
  const dest = pipe.spec.destination;
  const table = dest.table ?? pipe.metadata.name;
  return retry(
    async () => {
      for (const sql of [errorTableSql(dest.database, table), logTableSql(dest.database), stateTableSql(dest.database)]) await command(client, sql);
      if (!dest.managedTable) return checkedColumns(client, pipe, table);
      await command(client, createTableSql({ ...dest, table }));
      return [...(dest.columns ?? [])];
    },
    {
      initialMs: 1_000,
      maxMs: 15_000,
      signal,
      onRetry: (err, attempt) => logger.warn({ err: errorMessage(err), attempt }, "ClickHouse not reachable for setup yet, retrying"),
    },
  );
}
