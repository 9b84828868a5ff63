import { ErrorType, errorMessage, isDataError } from "./errors.js";
import { serverCannotReachRegistry } from "./frame-passthrough.js";
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
  /** Exactly-once: the records of a batch already in the table, asked before retrying a failed insert. */
  readonly landed?: (table: string, records: readonly RawRecord[]) => Promise<ReadonlySet<RawRecord>>;
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

/**
 * Insert rows [from, to). Retried while the failure is a system error; with `landed`
 * (exactly-once), a retry first asks which of these records the failed attempt got in
 * anyway and inserts only the others.
 */
function attempt(lane: TableBatch, from: number, to: number, passthrough: boolean, deps: TableInsertDeps): Promise<void> {
  let body: Buffer | readonly Buffer[] = passthrough ? lane.insertBody() : lane.rowsBody(from, to);
  let failed = false;
  const once = async (): Promise<void> => {
    if (failed && deps.landed !== undefined) {
      const range = lane.records.slice(from, to);
      const landed = await deps.landed(lane.table, range);
      if (landed.size === range.length) return;
      if (landed.size > 0) body = lane.bodyWithout(from, to, landed);
    }
    try {
      await (passthrough && lane.frames !== undefined
        ? deps.sink.insertBody(lane.table, body, passthrough, lane.frames)
        : deps.sink.insertBody(lane.table, body, passthrough));
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  // Frames the server cannot decode for want of the registry go back to the caller, which lets the consumer decode them.
  const framesFallback = passthrough && lane.frames !== undefined;
  return retry(once, {
    ...deps.retry,
    retriable: (err) => retriesAsSystemError(err) && !(framesFallback && serverCannotReachRegistry(err)),
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
    await attempt(lane, from, to, false, deps);
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
      await attempt(lane, 0, lane.records.length, true, deps);
      return;
    } catch (err) {
      if (lane.frames !== undefined && serverCannotReachRegistry(err)) {
        lane.frames.pause.pauseFrom();
        deps.logger.warn({ err: errorMessage(err), table: lane.table }, "ClickHouse cannot use the schema registry; the consumer decodes for the next minutes (set formatOptions.avroDecoding: consumer if the server can never reach it)");
      } else if (!isDataError(err)) throw err;
      else deps.logger.debug({ err: errorMessage(err), table: lane.table }, "ClickHouse refused the passed-through batch; checking record by record");
      lane.switchToMapped();
    }
  }
  await insertBisecting(lane, 0, lane.records.length, deps);
}
