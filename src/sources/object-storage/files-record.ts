/**
 * The pipe's side of its table of ingested files (`<table>_clickpipes_archive`,
 * src/clickhouse/files-table.ts): which files are finished (the resume point of one-shot and
 * any-order pipes, and of continuous ones within its 7 days), and a row for each file the
 * pipe finishes, written once the file's rows and state row are committed. A failed write
 * is a system error, retried with backoff: nothing is lost by waiting (the file is not
 * acknowledged, e.g. its SQS message not deleted, before its row is in).
 */
import type { SqlRunner } from "../../clickhouse/client.js";
import { type FileRow, type FileStatus, finishedFilesSql, insertFilesSql } from "../../clickhouse/files-table.js";
import { destinationError } from "../../ingest/destination-errors.js";
import { errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import { retry } from "../../ingest/retry.js";
import type { CheckpointStore } from "../plugin.js";

export interface FilesRecord {
  /** Every file of the pipe the table holds, key → status. */
  finished(): Promise<Map<string, FileStatus>>;
  /** Whether one key is finished (any replica may have finished it since start). */
  isFinished(key: string): Promise<boolean>;
  record(row: Omit<FileRow, "pipe" | "time">): Promise<void>;
}

export interface FilesRecordOptions {
  readonly pipe: string;
  readonly database: string;
  readonly table: string;
  readonly clickhouse: SqlRunner | undefined;
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

const STATUSES: readonly string[] = ["done", "failed", "skipped"];

export function clickhouseFilesRecord(o: FilesRecordOptions): FilesRecord {
  const opts = { initialMs: 500, maxMs: 15_000, signal: o.signal, onRetry: (err: unknown) => o.logger.warn({ err: errorMessage(err) }, "the table of ingested files did not answer, retrying") };
  const read = async (path?: string): Promise<Map<string, FileStatus>> => {
    const select = o.checkpoints.select?.bind(o.checkpoints);
    if (select === undefined) throw destinationError(new Error("this ingest core gives the source no read of its tables"), { filesTable: o.table });
    const params = path === undefined ? { pipe: o.pipe } : { pipe: o.pipe, path };
    const rows = await retry(() => select<{ path: string; status: string }>(finishedFilesSql(o.database, o.table, path !== undefined), params), opts);
    return new Map(rows.filter((r) => STATUSES.includes(r.status)).map((r) => [r.path, r.status as FileStatus]));
  };
  return {
    finished: () => read(),
    isFinished: async (key) => (await read(key)).has(key),
    async record(row) {
      const runner = o.clickhouse;
      if (runner === undefined) throw destinationError(new Error("this ingest core gives the source no ClickHouse connection"), { filesTable: o.table });
      const query = insertFilesSql(o.database, o.table, [{ ...row, pipe: o.pipe, time: Date.now() }]);
      await retry(async () => {
        try {
          await runner.command({ query });
        } catch (err) {
          throw destinationError(err, { filesTable: o.table, path: row.path });
        }
      }, opts);
    },
  };
}
