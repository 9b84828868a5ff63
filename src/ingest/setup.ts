import type { ClickHouseClient } from "@clickhouse/client";
import type { ClickPipe } from "../api/index.js";
import { quoteIdent, quoteString } from "../clickhouse/client.js";
import { destinationError } from "./destination-errors.js";
import { ConfigError, SchemaMismatchError, errorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import type { ColumnSpec } from "./mapper.js";
import { retry } from "./retry.js";
import type { ClickHouseSink } from "./sink.js";

async function command(client: ClickHouseClient, query: string): Promise<void> {
  try {
    await client.command({ query });
  } catch (err) {
    throw destinationError(err, { query: query.slice(0, 200) });
  }
}

async function existingColumns(client: ClickHouseClient, database: string, table: string): Promise<ColumnSpec[]> {
  try {
    const result = await client.query({
      query: `SELECT name, type FROM system.columns WHERE database = ${quoteString(database)} AND table = ${quoteString(table)} ORDER BY position`,
      format: "JSONEachRow",
    });
    return await result.json<ColumnSpec>();
  } catch (err) {
    throw destinationError(err, { database, table });
  }
}

function supportTablesSql(database: string, table: string): string[] {
  const db = quoteIdent(database);
  return [
    `CREATE TABLE IF NOT EXISTS ${db}.${quoteIdent(`${table}_clickpipes_error`)} (time DateTime64(3, 'UTC'), pipe String, error_type LowCardinality(String), message String, raw_message String, source_position String) ENGINE = MergeTree ORDER BY (pipe, time) TTL toDateTime(time) + INTERVAL 7 DAY`,
    `CREATE TABLE IF NOT EXISTS ${db}.clickpipes_log (time DateTime64(3, 'UTC'), pipe String, level LowCardinality(String), error_type LowCardinality(String), message String) ENGINE = MergeTree ORDER BY (pipe, time) TTL toDateTime(time) + INTERVAL 30 DAY`,
    `CREATE TABLE IF NOT EXISTS ${db}.clickpipes_state (pipe String, source_position String, rows SimpleAggregateFunction(sum, UInt64), bytes SimpleAggregateFunction(sum, UInt64), record_errors SimpleAggregateFunction(sum, UInt64), batches SimpleAggregateFunction(sum, UInt64), position SimpleAggregateFunction(max, Int64), lag SimpleAggregateFunction(anyLast, Int64), last_insert_time SimpleAggregateFunction(max, DateTime64(3, 'UTC'))) ENGINE = AggregatingMergeTree ORDER BY (pipe, source_position)`,
  ];
}

function managedTableSql(pipe: ClickPipe, columns: readonly ColumnSpec[]): string {
  const dest = pipe.spec.destination;
  const def = dest.tableDefinition;
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(", ");
  const order = def?.sortingKey === undefined ? "tuple()" : `(${def.sortingKey.map(quoteIdent).join(", ")})`;
  const partition = def?.partitionBy === undefined ? "" : ` PARTITION BY ${def.partitionBy}`;
  const engine = def?.engine.type ?? "MergeTree";
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(dest.database)}.${quoteIdent(dest.table ?? pipe.metadata.name)} (${cols}) ENGINE = ${engine}${partition} ORDER BY ${order}`;
}

function normaliseType(type: string): string {
  return type.replaceAll(/\s+/g, "");
}

/** Each way the existing table differs from the pipe's columns, in words a user can act on. */
export function columnMismatches(wanted: readonly ColumnSpec[], actual: readonly ColumnSpec[]): string[] {
  const byName = new Map(actual.map((c) => [c.name, c.type]));
  const out: string[] = [];
  for (const c of wanted) {
    const type = byName.get(c.name);
    if (type === undefined) out.push(`column ${c.name} (${c.type}) is missing`);
    else if (normaliseType(type) !== normaliseType(c.type)) out.push(`column ${c.name} is ${type}, the pipe expects ${c.type}`);
  }
  return out;
}

/**
 * Create the error, log and state tables; create the managed table or check the existing
 * one. Returns the columns the mapper fills. Retries while ClickHouse is unreachable.
 */
export async function setUpDestination(
  client: ClickHouseClient,
  _sink: ClickHouseSink,
  pipe: ClickPipe,
  logger: Logger,
  signal: AbortSignal,
): Promise<ColumnSpec[]> {
  const dest = pipe.spec.destination;
  const table = dest.table ?? pipe.metadata.name;
  return retry(
    async () => {
      for (const sql of supportTablesSql(dest.database, table)) await command(client, sql);
      const wanted = dest.columns ?? [];
      if (dest.managedTable) {
        if (wanted.length === 0) throw new ConfigError("spec.destination.columns is required for a managed table");
        await command(client, managedTableSql(pipe, wanted));
        return [...wanted];
      }
      const actual = await existingColumns(client, dest.database, table);
      if (actual.length === 0) throw new ConfigError(`destination table ${dest.database}.${table} does not exist (managedTable: false)`);
      const mismatches = columnMismatches(wanted, actual);
      if (mismatches.length > 0) throw new SchemaMismatchError(`${dest.database}.${table}`, mismatches);
      return wanted.length > 0 ? [...wanted] : actual;
    },
    {
      initialMs: 1_000,
      maxMs: 15_000,
      signal,
      onRetry: (err, attempt) => logger.warn({ err: errorMessage(err), attempt }, "ClickHouse not reachable for setup yet, retrying"),
    },
  );
}
