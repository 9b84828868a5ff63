import { errorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import { type DestinationSink, type LogRow, chTime } from "./sink.js";

/** Pending rows kept while ClickHouse cannot take them, at most this many (the oldest go first). */
const MAX_PENDING_ROWS = 100;

/** clickpipes_log error types the consumer writes besides its system errors (docs/design/contracts.md). */
export const LogType = {
  /** A batch insert was refused for a non-data reason or ClickHouse was unreachable: first failure of a streak. */
  destination: "DESTINATION_ERROR",
  /** The source could not be reached or read: first failure of a streak. */
  source: "SOURCE_ERROR",
  /** level info; message: the phase the source entered (Snapshot, Running) or Completed. */
  phase: "PHASE",
} as const;

/**
 * The consumer's rows in clickpipes_log: system errors and phase changes. A row is written
 * at once, so the operator sees a failure while it lasts; if ClickHouse cannot take it (it
 * may be what failed), it waits and goes in with the next batch's state rows.
 */
export class SystemLog {
  private readonly pending: LogRow[] = [];

  constructor(
    private readonly pipe: string,
    private readonly sink: Pick<DestinationSink, "insertLog">,
    private readonly logger: Logger,
  ) {}

  /** A system error: to the logs now, to clickpipes_log as soon as ClickHouse takes it. */
  error(errorType: string, message: string, level: "warn" | "error" = "error"): void {
    this.logger[level]({ error_type: errorType }, message);
    this.write({ time: chTime(Date.now()), pipe: this.pipe, level, error_type: errorType, message });
  }

  /** An informational row (a phase change). */
  info(errorType: string, message: string): void {
    this.logger.info({ error_type: errorType }, message);
    this.write({ time: chTime(Date.now()), pipe: this.pipe, level: "info", error_type: errorType, message });
  }

  /** Rows that could not be written yet, removed from the queue: the caller writes them (and puts them back on failure). */
  take(): LogRow[] {
    return this.pending.splice(0);
  }

  /** Put rows back after a failed write, ahead of newer ones. */
  putBack(rows: readonly LogRow[]): void {
    this.pending.unshift(...rows);
    this.pending.splice(0, Math.max(0, this.pending.length - MAX_PENDING_ROWS));
  }

  private write(row: LogRow): void {
    this.sink.insertLog([row]).catch((err: unknown) => {
      this.logger.debug({ err: errorMessage(err) }, "clickpipes_log row kept for the next batch");
      this.putBack([row]);
    });
  }
}
