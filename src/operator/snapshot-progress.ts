import { quoteIdent } from "../clickhouse/client.js";
import { DONE, planStream, snapshotTableOf } from "../ingest/snapshot-streams.js";

/**
 * Per-table initial-load progress of a CDC pipe, read from the snapshot bookkeeping its
 * consumers keep in clickpipes_state (src/sources/cdc/snapshot-plan.ts): stream
 * `snapshot/<table>` holds the plan (a JSON array of partitions), then `done`; stream
 * `snapshot/<table>/<i>` counts partition i's rows and turns `done` once they are in.
 * Generic: any source writing these streams (Postgres, MySQL) gets it on status.
 */

export interface TableSnapshotProgress {
  readonly table: string;
  readonly partitionsDone: number;
  readonly partitionsTotal: number;
  /** Rows read into ClickHouse by the initial load (a partition re-read after a restart counts again). */
  readonly rows: number;
  readonly completed: boolean;
}

/** One snapshot stream of one pipe, as `snapshotSql` returns it. */
export interface SnapshotStreamRow {
  readonly stream: string;
  readonly rows: number;
  readonly position: string;
}

/** The latest position and the row count of every `snapshot/...` stream, per pipe; and of the `resync` stream (src/operator/resync.ts reads it). */
export function snapshotSql(database: string): string {
  return `SELECT pipe, source_position AS stream, sum(rows) AS stream_rows, argMax(position, last_insert_time) AS stream_position
FROM ${quoteIdent(database)}.clickpipes_state WHERE startsWith(source_position, 'snapshot/') OR source_position = 'resync' GROUP BY pipe, source_position`;
}

/** The number of partitions a stored plan lists; undefined when it is not a plan (e.g. `done`). */
function plannedPartitions(position: string | undefined): number | undefined {
  if (position === undefined || position === DONE) return undefined;
  try {
    const parsed: unknown = JSON.parse(position);
    return Array.isArray(parsed) ? parsed.length : undefined;
  } catch {
    // Not a plan this release can read: the partitions seen so far are the best count.
    return undefined;
  }
}

interface Accumulator {
  plan?: string;
  rows: number;
  done: number;
  seen: number;
}

/**
 * Per table, sorted by name: partitions done of all, rows, completed. Once a table is
 * completed its plan is gone (the stream says `done`), so the total is the partitions seen,
 * all of which are done by then.
 */
export function snapshotProgress(rows: readonly SnapshotStreamRow[]): TableSnapshotProgress[] {
  const tables = new Map<string, Accumulator>();
  for (const row of rows) {
    const table = snapshotTableOf(row.stream);
    if (table === undefined) continue;
    const acc = tables.get(table) ?? { rows: 0, done: 0, seen: 0 };
    tables.set(table, acc);
    if (row.stream === planStream(table)) {
      acc.plan = row.position;
      continue;
    }
    acc.rows += row.rows;
    acc.seen += 1;
    if (row.position === DONE) acc.done += 1;
  }
  return [...tables.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([table, acc]) => {
      const completed = acc.plan === DONE;
      const total = Math.max(plannedPartitions(acc.plan) ?? acc.seen, acc.seen);
      return { table, partitionsDone: completed ? total : acc.done, partitionsTotal: total, rows: acc.rows, completed };
    });
}
