/**
 * Which files a consumer ingests next (Pure). Finished files come from the table of
 * ingested files (files-record.ts) as `done`/`failed`/`skipped`. The checkpoint store keeps
 * one stream per replica, `files/<index>`, whose position is `<status>:<key>` of the file
 * finished last: for a continuous pipe, which goes in lexical order one file at a time, the
 * key to resume after, which outlives the files table's 7-day TTL. A file's own stream (its
 * key) holds a line number while its malformed-line path is part-way (resume after it);
 * releases before the files table kept `done:<etag>` there, still read as finished.
 * Replicas split the files by a stable hash of the key.
 */
import type { ObjectInfo } from "./store.js";

/** ClickPipes skips files above 10 GB. */
export const MAX_FILE_BYTES = 10 * 1024 ** 3;

export const Position = {
  done: (key: string): string => `done:${key}`,
  failed: (key: string): string => `failed:${key}`,
  skipped: (key: string): string => `skipped:${key}`,
} as const;

/** The replica's stream in the checkpoint store: the last finished key. */
export function resumeStream(replica: number): string {
  return `files/${replica}`;
}

/** The key of a resume stream's position (`<status>:<key>`), or undefined. */
export function resumeKey(position: string | undefined): string | undefined {
  const m = position === undefined ? null : /^(?:done|failed|skipped):(.*)$/s.exec(position);
  return m === null ? undefined : m[1];
}

export function isFinished(position: string | undefined): boolean {
  return position !== undefined && /^(done|failed|skipped):/.test(position);
}

/** The last line made durable by a part-way record path, or 0. */
export function resumeLine(position: string | undefined): number {
  return position !== undefined && /^\d+$/.test(position) ? Number(position) : 0;
}

/** FNV-1a: the same replica owns a key on every consumer and after every restart. */
export function replicaOf(key: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

export interface PlanOptions {
  readonly replica: { readonly index: number; readonly count: number };
  /** Continuous pipes take only keys after the last finished one, in lexical order, as ClickPipes does. */
  readonly continuous: boolean;
  /** Continuous: the key the replica's resume stream holds (finished files may have left the files table). */
  readonly after?: string;
  readonly maxBytes?: number;
}

export interface Plan {
  /** This replica's files to ingest, in lexical order. */
  readonly todo: readonly ObjectInfo[];
  /** Files over the size limit: reported once and marked skipped. */
  readonly oversized: readonly ObjectInfo[];
}

export function planFiles(listing: readonly ObjectInfo[], positions: ReadonlyMap<string, string>, opts: PlanOptions): Plan {
  const mine = listing.filter((f) => replicaOf(f.key, opts.replica.count) === opts.replica.index).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let after = opts.continuous ? opts.after : undefined;
  if (opts.continuous) for (const f of mine) if (isFinished(positions.get(f.key)) && (after === undefined || f.key > after)) after = f.key;
  const open = mine.filter((f) => !isFinished(positions.get(f.key)) && (after === undefined || f.key > after));
  const limit = opts.maxBytes ?? MAX_FILE_BYTES;
  return { todo: open.filter((f) => f.size <= limit), oversized: open.filter((f) => f.size > limit) };
}
