import { IngestError, SourceError } from "../../ingest/errors.js";

/** Server error codes no retry can fix: credentials, grants, a binlog position the server no longer has. */
const FINAL_CODES = new Set([
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_SPECIFIC_ACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_COLUMNACCESS_DENIED_ERROR",
  "ER_NO_SUCH_TABLE",
  "ER_BAD_DB_ERROR",
  "ER_MASTER_FATAL_ERROR_READING_BINLOG",
]);
const FINAL_ERRNOS = new Set([1045, 1044, 1227, 1142, 1143, 1146, 1049, 1236]);

function field(err: unknown, name: string): unknown {
  return typeof err === "object" && err !== null && name in err ? (err as Record<string, unknown>)[name] : undefined;
}

/**
 * zongji's report of a MySQL 8 event it cannot decode (binlog_transaction_compression=ON,
 * binlog_row_value_options=PARTIAL_JSON): reading on would skip those changes, and reading
 * again meets them again, so only a server setting helps.
 */
const UNDECODABLE = /TRANSACTION_PAYLOAD_EVENT|PARTIAL_UPDATE_ROWS_EVENT/;

/** Whether retrying can help: connection problems yes; access denied, a purged binlog or an undecodable event never. */
export function mysqlRetriable(err: unknown): boolean {
  if (err instanceof IngestError) return err.retriable;
  if (err instanceof Error && UNDECODABLE.test(err.message)) return false;
  const code = field(err, "code");
  const errno = field(err, "errno");
  if (typeof code === "string" && FINAL_CODES.has(code)) return false;
  return !(typeof errno === "number" && FINAL_ERRNOS.has(errno));
}

/** A MySQL failure as the core's SourceError, saying what was being done. */
export function mysqlError(doing: string, err: unknown, context?: Record<string, unknown>): SourceError {
  if (err instanceof SourceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = field(err, "code");
  const hint = field(err, "errno") === 1236 ? " (the binlog the pipe resumes from is gone: resync the pipe)" : "";
  return new SourceError(`MySQL: cannot ${doing}: ${message}${hint}`, {
    retriable: mysqlRetriable(err),
    cause: err,
    context: { ...context, ...(typeof code === "string" ? { code } : {}) },
  });
}
