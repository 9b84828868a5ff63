/**
 * Which files a consumer ingests next (Pure). A file's position in the checkpoint store
 * (stream: its key) says where it stands: `done:<etag>`, `failed:<etag>` or
 * `skipped:<size>` (finished, never again), or a line number (its malformed-line path is
 * part-way; resume after it). Replicas split the files by a stable hash of the key.
 */
import type { ObjectInfo } from "./store.js";

/** ClickPipes skips files above 10 GB. */
export const MAX_FILE_BYTES = 10 * 1024 ** 3;

export const Position = {
  done: (etag: string): string => `done:${etag}`,
  failed: (etag: string): string => `failed:${etag}`,
  skipped: (size: number): string => `skipped:${size}`,
} as const;

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
  let after: string | undefined;
  if (opts.continuous) for (const f of mine) if (isFinished(positions.get(f.key))) after = f.key;
  const open = mine.filter((f) => !isFinished(positions.get(f.key)) && (after === undefined || f.key > after));
  const limit = opts.maxBytes ?? MAX_FILE_BYTES;
  return { todo: open.filter((f) => f.size <= limit), oversized: open.filter((f) => f.size > limit) };
}
