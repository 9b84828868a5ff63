import type { ClickHouseClient } from "@clickhouse/client";
import type { ClickPipe } from "../api/index.js";
import { checkPipeTables, createPipeTables, pipeTableSpecs, type TableOutcome } from "../clickhouse/pipe-tables.js";
import { sourcePlugin } from "../sources/registry.js";
import { destinationError } from "./destination-errors.js";
import { ConfigError, SchemaMismatchError, errorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import type { ColumnSpec } from "./mapper.js";
import { retry } from "./retry.js";

/**
 * `create`: standalone `clickpipes run` with admin credentials creates what the pipe needs.
 * `check`: a consumer in a cluster runs no DDL (the operator did it, as admin); it reads its
 * tables' columns and checks them, with only the grants its pipe user has.
 */
export type SetupMode = "create" | "check";

/** A table that cannot be used as the spec stands: not retried, the consumer exits naming it. */
function specProblem(outcome: Extract<TableOutcome, { ok: false }>): Error {
  if (outcome.problem === "SchemaMismatch") return new SchemaMismatchError(`${outcome.database}.${outcome.table}`, [outcome.message]);
  return new ConfigError(outcome.message, { table: `${outcome.database}.${outcome.table}`, problem: outcome.problem });
}

async function setUpOnce(client: ClickHouseClient, pipe: ClickPipe, mode: SetupMode, tables: readonly string[]): Promise<Map<string, ColumnSpec[]>> {
  const specs = pipeTableSpecs(pipe.spec, tables, { filesTable: sourcePlugin(pipe.spec)?.capabilities(pipe.spec).filesTable === true });
  let outcomes: TableOutcome[];
  try {
    outcomes = mode === "create" ? await createPipeTables(client, specs) : await checkPipeTables(client, specs);
  } catch (err) {
    throw destinationError(err, { setup: mode });
  }
  const columns = new Map<string, ColumnSpec[]>();
  for (const outcome of outcomes) {
    if (!outcome.ok) throw specProblem(outcome);
    columns.set(outcome.table, outcome.columns);
  }
  return columns;
}

/**
 * Sets up the destination for `tables` and returns the columns the mapper fills, per table.
 * Retries while ClickHouse is unreachable or refuses (a system error; `onFailure` hears each
 * failure); a spec that cannot work (missing table, mismatched columns) is not retried.
 */
export async function setUpDestination(
  client: ClickHouseClient,
  pipe: ClickPipe,
  opts: { mode: SetupMode; tables: readonly string[]; logger: Logger; signal: AbortSignal; onFailure?: (err: unknown) => void },
): Promise<Map<string, ColumnSpec[]>> {
  return retry(() => setUpOnce(client, pipe, opts.mode, opts.tables), {
    initialMs: 1_000,
    maxMs: 15_000,
    signal: opts.signal,
    onRetry: (err, attempt) => {
      opts.onFailure?.(err);
      opts.logger.warn({ err: errorMessage(err), attempt }, "ClickHouse not ready for setup yet, retrying");
    },
  });
}
