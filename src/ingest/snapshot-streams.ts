/**
 * Names of the checkpoint-store streams that record an initial load (a snapshot), shared by
 * the sources that write them (src/sources/cdc/) and the operator that shows them on status:
 * stream `snapshot/<target>` holds the table's plan (then `done`), and each partition has
 * `snapshot/<target>/<index>` whose position becomes `done` once its rows are in ClickHouse.
 * A resync (src/sources/cdc/resync-plan.ts) records itself in stream `resync`.
 */

export const DONE = "done";

export function planStream(table: string): string {
  return `snapshot/${table}`;
}

export function partitionStream(table: string, index: number): string {
  return `snapshot/${table}/${index}`;
}

/** Whether a checkpoint-store stream is snapshot bookkeeping (status counts its rows per table). */
export function snapshotTableOf(stream: string): string | undefined {
  const m = /^snapshot\/([^/]+)(?:\/\d+)?$/.exec(stream);
  return m?.[1];
}

/** The stream of a CDC resync: `<id>:loading` once its fresh tables and new source position exist, `<id>:done` once every table is swapped in. */
export const RESYNC_STREAM = "resync";

export function resyncPosition(id: string, stage: "loading" | "done"): string {
  return `${id}:${stage}`;
}

/** Whether the consumers reported resync `id` complete (the operator's status.resync). */
export function resyncCompleted(id: string, position: string | undefined): boolean {
  return position === resyncPosition(id, "done");
}
