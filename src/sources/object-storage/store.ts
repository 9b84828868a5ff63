/**
 * What the source needs of an object store, whichever it is: list keys under a prefix,
 * read one object, and (where ClickHouse can read the store itself) the table function
 * that reads one object. Secrets go into the function's query parameters, never its text.
 */
import { SourceError, errorMessage } from "../../ingest/errors.js";

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** ETag (S3, Azure) or generation (GCS): which version of the key was ingested. */
  readonly etag: string;
  /** Last modified, ms since the epoch. */
  readonly modified: number;
}

/** A ClickHouse table function call, with `{name:String}` placeholders and their values; `{structure:String}` is the caller's. */
export interface TableFunction {
  readonly sql: string;
  readonly params: Readonly<Record<string, string>>;
}

export interface PullRequest {
  readonly key: string;
  /** ClickHouse input format name. */
  readonly format: string;
  /** ClickHouse compression name (`auto` from the extension). */
  readonly compression: string;
}

export interface ObjectStore {
  /** Keys under `prefix`, in the store's (lexical) order. */
  list(prefix: string, signal: AbortSignal): AsyncIterable<ObjectInfo>;
  /** The object's bytes as stored (compressed as it is). */
  read(key: string, signal: AbortSignal): Promise<NodeJS.ReadableStream>;
  /** The table function that reads `key`, or undefined when ClickHouse cannot read this store with these credentials. */
  tableFunction(req: PullRequest): Promise<TableFunction | undefined>;
  /** Reachability: one listing call. */
  check(prefix: string, signal: AbortSignal): Promise<void>;
  close(): void;
}

/** A store call that failed: retriable (the store may be back), with what was asked. */
export function sourceError(what: string, err: unknown, context: Record<string, unknown>): SourceError {
  return new SourceError(`${what}: ${errorMessage(err)}`, { retriable: true, cause: err, context });
}

/** `a/b c/d.json` as a URL path: each segment percent-encoded. */
export function urlPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}
