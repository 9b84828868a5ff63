import { ErrorType, errorMessage, isDataError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { IngestMetrics } from "./metrics.js";
import { type RetryOptions, retry } from "./retry.js";
import type { DestinationSink } from "./sink.js";
import type { RawRecord } from "./source.js";
import type { TableBatch } from "./table-batch.js";

export interface TableInsertDeps {
  readonly sink: DestinationSink;
  /** Backoff for system errors; retried until they go away or the signal aborts (shutdown). */
  readonly retry: RetryOptions;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  /** Each failed attempt that will be retried (a system error: the pipeline reports the streak). */
  readonly onSystemFailure: (err: unknown) => void;
}

/**
 * The insert-error policy, in one place: ClickHouse refusing the data of a batch (a data
 * error) is narrowed down to the refused rows, each of which becomes a record error; any
 * other failure (unknown table, access denied, missing column, server down) is a system
 * error, retried with capped backoff and never turned into record errors.
 */
export function retriesAsSystemError(err: unknown): boolean {
  return !isDataError(err);
}

function attempt(lane: TableBatch, body: Buffer | readonly Buffer[], passthrough: boolean, deps: TableInsertDeps): Promise<void> {
  return retry(() => deps.sink.insertBody(lane.table, body, passthrough), {
    ...deps.retry,
    retriable: retriesAsSystemError,
    onRetry: (err, n, delayMs) => {
      deps.onSystemFailure(err);
      deps.metrics.retried("insert_rows");
      deps.logger.warn({ err: errorMessage(err), attempt: n, delayMs, table: lane.table }, "ClickHouse insert failed (system error), retrying");
    },
  });
}

/** Insert rows [from, to); on a data refusal split in halves until the refused rows are found, each becomes an error row. */
async function insertBisecting(lane: TableBatch, from: number, to: number, deps: TableInsertDeps): Promise<void> {
  if (from >= to) return;
  try {
    await attempt(lane, lane.rowsBody(from, to), false, deps);
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (to - from === 1) {
      lane.addError(lane.records[from] as RawRecord, ErrorType.insert, `ClickHouse refused the row: ${errorMessage(err)}`, Date.now());
      return;
    }
    const mid = from + Math.floor((to - from) / 2);
    await insertBisecting(lane, from, mid, deps);
    await insertBisecting(lane, mid, to, deps);
  }
}

/**
 * Insert one table's part of a batch. Passed-through records go first as they are; if
 * ClickHouse refuses their data, each record is mapped (bad ones become record errors) and
 * the mapped rows are bisected to isolate the rows ClickHouse refuses.
 */
export async function insertTableBatch(lane: TableBatch, deps: TableInsertDeps): Promise<void> {
  if (lane.records.length === 0) return;
  if (lane.passthrough) {
    try {
      await attempt(lane, lane.insertBody(), true, deps);
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
      deps.logger.debug({ err: errorMessage(err), table: lane.table }, "ClickHouse refused the passed-through batch; checking record by record");
      lane.switchToMapped();
    }
  }
  await insertBisecting(lane, 0, lane.records.length, deps);
}
