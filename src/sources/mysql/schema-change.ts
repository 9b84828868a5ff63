/**
 * A source table's columns changed (an ALTER read from the binlog): bring its target table
 * along, as the shared decision says (cdc/schema-changes.ts). Order matters: what the core
 * holds goes in first with the old columns, then the ALTERs run, then the core re-reads the
 * table and maps later rows to the new columns.
 */
import type { RelationalTableMapping } from "../../api/index.js";
import type { SqlRunner } from "../../clickhouse/client.js";
import { destinationError } from "../../ingest/destination-errors.js";
import { errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import { retry } from "../../ingest/retry.js";
import type { RecordSink } from "../../ingest/source.js";
import { alterSql, planSchemaChange } from "../cdc/schema-changes.js";
import { targetTableOf } from "../cdc/target-table.js";
import { type TableSchema, cdcSourceTable } from "./schema.js";

export interface SchemaChangeDeps {
  readonly database: string;
  readonly mapping: RelationalTableMapping;
  readonly clickhouse: SqlRunner | undefined;
  readonly sink: RecordSink;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

export async function applySchemaChange(before: TableSchema, after: TableSchema, deps: SchemaChangeDeps): Promise<void> {
  const target = after.targetTable;
  const keys = targetTableOf(deps.database, deps.mapping, cdcSourceTable(after)).orderBy;
  const plan = planSchemaChange(target, cdcSourceTable(before).columns, cdcSourceTable(after).columns, keys);
  for (const problem of plan.problems) {
    deps.logger.warn({ table: target, problem }, "source schema change not applied");
    deps.sink.onSourceError?.(problem);
  }
  if (plan.alters.length === 0) return;
  const clickhouse = deps.clickhouse;
  if (clickhouse === undefined) {
    deps.sink.onSourceError?.(`${target}: the source's columns changed but this consumer has no ClickHouse connection to ALTER the table`);
    return;
  }
  // Rows held now have the old columns: they go in before a DROP COLUMN runs.
  await deps.sink.onTablesChanged?.([]);
  for (const alter of plan.alters) {
    const query = alterSql(deps.database, target, alter);
    await retry(
      async () => {
        try {
          await clickhouse.command({ query });
        } catch (err) {
          throw destinationError(err, { alter: query });
        }
      },
      { initialMs: 500, maxMs: 15_000, signal: deps.signal, onRetry: (err, attempt) => deps.logger.warn({ err: errorMessage(err), attempt, query }, "ALTER of the target table failed, retrying") },
    );
    deps.logger.info({ table: target, query }, "target table follows the source schema");
  }
  await deps.sink.onTablesChanged?.([target]);
}
