/**
 * Resync bookkeeping for any CDC source (pure). A resync reloads every mapped table into a
 * fresh `<table>_resync` (same DDL), then swaps each into place with EXCHANGE TABLES, so
 * queries read the old rows until the new ones are complete. Its progress lives in the
 * checkpoint store, so a consumer killed at any point resumes it:
 *
 * - stream `resync` = `<id>:loading` once the fresh tables and the new slot exist, then
 *   `<id>:done` once every table is swapped in (the operator reads it for status.resync);
 * - the fresh tables' initial load uses the ordinary snapshot streams of `<table>_resync`
 *   (snapshot-plan.ts), reset when a resync starts afresh;
 * - a swapped table carries the comment `clickpipes resync <id>`, so a restart between the
 *   swap and its record does not swap the old table back.
 */
import { quoteIdent, quoteString } from "../../clickhouse/client.js";
import { RESYNC_ID_ANNOTATION } from "../../api/index.js";
import { RESYNC_STREAM, resyncPosition } from "../../ingest/snapshot-streams.js";
import { planStream } from "./snapshot-plan.js";

export { RESYNC_STREAM, resyncPosition };

const SUFFIX = "_resync";

export type ResyncStage = "fresh" | "loading" | "done";

/** The fresh table a resync loads `table` into. */
export function resyncTable(table: string): string {
  return `${table}${SUFFIX}`;
}

/** The resync the consumer is asked for (the operator's id on the pipe copy it was given), if any. */
export function requestedResync(pipe: { readonly metadata: { readonly annotations?: Readonly<Record<string, string>> | undefined } }): string | undefined {
  const id = pipe.metadata.annotations?.[RESYNC_ID_ANNOTATION]?.trim();
  return id === undefined || id === "" ? undefined : id;
}

/** Where resync `id` stands, from the `resync` stream's position (another id's record means this one has not started). */
export function resyncStage(id: string, position: string | undefined): ResyncStage {
  if (position === resyncPosition(id, "done")) return "done";
  if (position === resyncPosition(id, "loading")) return "loading";
  return "fresh";
}

/** The snapshot streams of the fresh tables (an earlier resync's plan and partitions), to reset when a resync starts afresh. */
export function staleSnapshotStreams(tables: readonly string[], checkpoints: ReadonlyMap<string, string>): string[] {
  const plans = new Set(tables.map((t) => planStream(resyncTable(t))));
  return [...checkpoints.keys()].filter((stream) => plans.has(stream) || [...plans].some((p) => stream.startsWith(`${p}/`)));
}

/** The checkpoints as a fresh resync must see them: no bookkeeping of an earlier resync's fresh tables. */
export function withoutStale(checkpoints: ReadonlyMap<string, string>, stale: readonly string[]): Map<string, string> {
  const fresh = new Map(checkpoints);
  for (const stream of stale) fresh.delete(stream);
  return fresh;
}

/** The comment a swapped-in table carries. */
export function resyncComment(id: string): string {
  return `clickpipes resync ${id}`;
}

export function commentSql(database: string, table: string, id: string): string {
  return `ALTER TABLE ${quoteIdent(database)}.${quoteIdent(table)} MODIFY COMMENT ${quoteString(resyncComment(id))}`;
}

/** What the swap of one table must do, from the comment of the live table and whether each exists. */
export type SwapStep = "exchange" | "rename" | "already";

export function swapStep(id: string, live: { exists: boolean; comment: string } | undefined, freshExists: boolean): SwapStep {
  if (live?.exists === true && live.comment === resyncComment(id)) return "already";
  if (!freshExists) return "already";
  return live?.exists === true ? "exchange" : "rename";
}

export function renameSql(database: string, from: string, to: string): string {
  return `RENAME TABLE ${quoteIdent(database)}.${quoteIdent(from)} TO ${quoteIdent(database)}.${quoteIdent(to)}`;
}
