/**
 * The table of ingested files beside a file source's destination table (ClickPipes keeps
 * one like it, its `_archive` table): one row per file a pipe finished, with its path, size,
 * ETag (or GCS generation), rows, time and status (`done`, `failed`, `skipped`), kept 7
 * days. It is both the record a user reads and the object storage source's resume point
 * (which files are finished). ReplacingMergeTree on (pipe, path): a file recorded twice (a
 * crash between its commit and its row) folds to one row. Pure builders: SQL text only.
 */
import { quoteIdent, quoteString } from "./client.js";

export const FILES_TABLE_SUFFIX = "_clickpipes_archive";

/** What a file ended as: ingested, refused by ClickHouse (marked failed, the pipe goes on), or not read (over the size limit, gone). */
export type FileStatus = "done" | "failed" | "skipped";

export interface FileRow {
  readonly pipe: string;
  readonly path: string;
  readonly size: number;
  readonly etag: string;
  readonly rows: number;
  /** ms since the epoch. */
  readonly time: number;
  readonly status: FileStatus;
}

export function filesTableName(table: string): string {
  return `${table}${FILES_TABLE_SUFFIX}`;
}

function qualified(db: string, table: string): string {
  return `${quoteIdent(db)}.${quoteIdent(filesTableName(table))}`;
}

export function filesTableSql(db: string, table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(db, table)}
(
  pipe String,
  path String,
  size UInt64,
  etag String,
  rows UInt64,
  time DateTime64(3, 'UTC'),
  status LowCardinality(String)
)
ENGINE = ReplacingMergeTree(time)
ORDER BY (pipe, path)
TTL toDateTime(time) + INTERVAL 7 DAY`;
}

/** `INSERT ... VALUES` of finished files, every value a quoted literal (the runner's command takes no parameters). */
export function insertFilesSql(db: string, table: string, rows: readonly FileRow[]): string {
  const values = rows.map(
    (r) =>
      `(${quoteString(r.pipe)}, ${quoteString(r.path)}, ${Math.max(0, Math.trunc(r.size))}, ${quoteString(r.etag)}, ${Math.max(0, Math.trunc(r.rows))}, fromUnixTimestamp64Milli(${Math.trunc(r.time)}, 'UTC'), ${quoteString(r.status)})`,
  );
  return `INSERT INTO ${qualified(db, table)} (pipe, path, size, etag, rows, time, status) VALUES ${values.join(", ")}`;
}

/** The files one pipe finished, newest row per path; parameters `{pipe:String}` and optionally `{path:String}`. */
export function finishedFilesSql(db: string, table: string, onePath = false): string {
  return `SELECT path, argMax(status, time) AS status, argMax(etag, time) AS etag
FROM ${qualified(db, table)}
WHERE pipe = {pipe:String}${onePath ? " AND path = {path:String}" : ""}
GROUP BY path`;
}
