import type { RawRecord } from "../../ingest/source.js";
import type { VirtualColumn } from "../plugin.js";

/** What a record read by the consumer (the malformed-line path) carries about its file. */
export interface FileMeta {
  readonly path: string;
  readonly file: string;
  readonly size: number;
  readonly modified: number;
}

function meta(record: RawRecord): FileMeta {
  return (record.meta as FileMeta | undefined) ?? { path: "", file: "", size: 0, modified: 0 };
}

/**
 * ClickPipes' object storage virtual columns. When ClickHouse reads the files the statement
 * fills them (statement.ts); these fill them for records the consumer reads itself.
 */
export const OBJECT_STORAGE_VIRTUAL_COLUMNS: readonly VirtualColumn[] = [
  /** `bucket/key`. */
  { name: "_path", value: (r) => meta(r).path },
  /** The file name, without folders. */
  { name: "_file", value: (r) => meta(r).file },
  { name: "_size", value: (r) => meta(r).size },
  /** Last modified. */
  { name: "_time", value: (r, type) => (/DateTime/.test(type) ? new Date(meta(r).modified).toISOString() : meta(r).modified) },
];
