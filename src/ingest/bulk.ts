/**
 * A source's bulk statement (an object storage file that ClickHouse reads itself, or a
 * file streamed into `INSERT ... FORMAT`) under the batches' rules: system errors retried
 * with backoff and reported once per streak, a data refusal returned to the source or
 * recorded as a system error naming the stream, then one state row (the checkpoint store)
 * and the commit, in that order.
 */
import { errorMessage, isDataError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { IngestMetrics } from "./metrics.js";
import { type RetryOptions, retry } from "./retry.js";
import { type DestinationSink, type StateRow, chTime } from "./sink.js";
import type { BulkInsert, BulkResult, Checkpoint, Source } from "./source.js";
import { LogType, type SystemLog } from "./system-log.js";

export interface BulkDeps {
  readonly pipe: string;
  readonly sink: DestinationSink;
  readonly source: Pick<Source, "commit">;
  readonly table: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly retry: RetryOptions;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  readonly log: SystemLog;
}

function stateRow(pipe: string, bulk: BulkInsert, position: string, rows: number): StateRow {
  return {
    pipe,
    source_position: bulk.stream,
    rows,
    bytes: bulk.bytes,
    record_errors: 0,
    batches: 1,
    position,
    lag: 0,
    last_insert_time: chTime(Date.now()),
  };
}

async function run(bulk: BulkInsert, deps: BulkDeps): Promise<number> {
  const insert = deps.sink.insertStatement?.bind(deps.sink);
  if (insert === undefined) throw new Error("this destination sink cannot run bulk statements");
  let reported = false;
  return (
    await retry(
      async () =>
        insert({
          table: deps.table,
          build: (qualified) => bulk.statement({ table: qualified, columns: deps.columns }),
          ...(bulk.settings === undefined ? {} : { settings: bulk.settings }),
          ...(bulk.headers === undefined ? {} : { headers: bulk.headers }),
          ...(bulk.body === undefined ? {} : { body: await bulk.body() }),
        }),
      {
        ...deps.retry,
        retriable: (err) => !isDataError(err),
        onRetry: (err, attempt, delayMs) => {
          deps.metrics.retried("insert_bulk");
          deps.logger.warn({ err: errorMessage(err), attempt, delayMs, stream: bulk.stream }, "bulk insert failed (system error), retrying");
          if (reported) return;
          reported = true;
          deps.log.error(LogType.destination, `ClickHouse refused or did not answer the insert of ${bulk.stream}, retrying (nothing is committed until it succeeds): ${errorMessage(err)}`);
        },
      },
    )
  ).rows;
}

async function commit(bulk: BulkInsert, position: string, rows: number, deps: BulkDeps): Promise<void> {
  const opts = { ...deps.retry, onRetry: (err: unknown) => deps.logger.warn({ err: errorMessage(err), stream: bulk.stream }, "state row or commit failed, retrying") };
  await retry(() => deps.sink.insertState([stateRow(deps.pipe, bulk, position, rows)]), opts);
  const checkpoint: Checkpoint = { stream: bulk.stream, position };
  await retry(() => deps.source.commit([checkpoint]), opts);
}

/** Runs the statement, then makes its position durable; a data refusal is returned or skipped as the source asked. */
export async function runBulk(bulk: BulkInsert, deps: BulkDeps): Promise<BulkResult> {
  const started = Date.now();
  let rows: number;
  try {
    rows = await run(bulk, deps);
  } catch (err) {
    if (!isDataError(err)) throw err;
    const message = `ClickHouse refused the data of ${bulk.stream}: ${errorMessage(err)}`;
    if (bulk.onRefused === "return") return { status: "refused", message };
    deps.log.error(LogType.source, message);
    await commit(bulk, bulk.skippedPosition ?? bulk.position, 0, deps);
    return { status: "skipped", message };
  }
  await commit(bulk, bulk.position, rows, deps);
  deps.metrics.batchDone(rows, bulk.bytes, (Date.now() - started) / 1000);
  return { status: "inserted", rows };
}
