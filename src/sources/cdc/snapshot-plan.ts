/**
 * Initial-load planning and its resume bookkeeping, for any CDC source (pure).
 *
 * A table is split into partitions of about `rowsPerPartition` rows over a range the source
 * can scan cheaply: Postgres heap pages (CTID ranges), MySQL primary-key ranges. The plan is
 * made once and kept in the checkpoint store (stream `snapshot/<target>` = the plan as JSON),
 * so a restarted consumer resumes the same partitions; each partition has its own stream
 * (`snapshot/<target>/<index>`) whose position becomes `done` once its rows are in
 * ClickHouse. A restart reloads only the partitions not `done`; their rows go in again with
 * version 0, which replication's later versions override and ReplacingMergeTree collapses.
 */

/** A half-open range [from, to) in the source's own unit; `to` undefined: to the end of the table. */
export interface PartitionRange {
  readonly from: number;
  readonly to?: number | undefined;
}

export interface TablePlan {
  readonly table: string;
  readonly partitions: readonly PartitionRange[];
}

import { DONE, partitionStream, planStream } from "../../ingest/snapshot-streams.js";

export { DONE, partitionStream, planStream, snapshotTableOf } from "../../ingest/snapshot-streams.js";

/**
 * Splits `[0, units)` into ranges holding about `rowsPerPartition` rows, given `rows` (an
 * estimate) spread evenly; the last range is open so rows beyond the estimate are read too.
 */
export function planPartitions(units: number, rows: number, rowsPerPartition: number): PartitionRange[] {
  if (units <= 0 || rows <= rowsPerPartition) return [{ from: 0 }];
  const count = Math.min(units, Math.ceil(rows / rowsPerPartition));
  const step = Math.ceil(units / count);
  const ranges: PartitionRange[] = [];
  for (let from = 0; from < units; from += step) ranges.push({ from, to: from + step });
  const last = ranges[ranges.length - 1] as PartitionRange;
  ranges[ranges.length - 1] = { from: last.from };
  return ranges;
}

export function encodePlan(plan: TablePlan): string {
  return JSON.stringify(plan.partitions);
}

/** A stored plan, or undefined when absent or unreadable (then the table is planned afresh). */
export function decodePlan(table: string, stored: string | undefined): TablePlan | undefined {
  if (stored === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(stored);
    if (!Array.isArray(parsed)) return undefined;
    const partitions = parsed.filter((p): p is PartitionRange => typeof p === "object" && p !== null && typeof (p as PartitionRange).from === "number");
    return partitions.length === parsed.length && partitions.length > 0 ? { table, partitions } : undefined;
  } catch {
    // A plan from another release: plan again (rows already in are replaced, not duplicated).
    return undefined;
  }
}

/** Indexes of the partitions of `plan` whose rows are not yet all in ClickHouse. */
export function pendingPartitions(plan: TablePlan, checkpoints: ReadonlyMap<string, string>): number[] {
  return plan.partitions.map((_, i) => i).filter((i) => checkpoints.get(partitionStream(plan.table, i)) !== DONE);
}

/** Snapshot progress of one table, for status: partitions done of all, from the checkpoint store. */
export function tableProgress(plan: TablePlan, checkpoints: ReadonlyMap<string, string>): { done: number; total: number } {
  const total = plan.partitions.length;
  return { done: total - pendingPartitions(plan, checkpoints).length, total };
}

/** The table-level marker that the whole initial load of `table` is in (stream `snapshot/<table>` = `done`). */
export function snapshotDone(table: string, checkpoints: ReadonlyMap<string, string>): boolean {
  return checkpoints.get(planStream(table)) === DONE;
}
