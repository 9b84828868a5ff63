/**
 * The initial load: which tables need one, their plans (made in the consistent snapshot that
 * fixes where replication starts), and reading the pending ranges with the configured
 * parallelism. Bookkeeping streams are the shared CDC ones (cdc/snapshot-plan.ts).
 */
import type { Connection, Pool } from "mysql2/promise";
import type { Checkpoint, RecordSink } from "../../ingest/source.js";
import { forEachLimited } from "../cdc/pool.js";
import { DONE, partitionStream, planStream, snapshotDone } from "../cdc/snapshot-plan.js";
import type { ServerSettings } from "./checks.js";
import { BINLOG_STREAM, type BinlogPosition, decodeBinlogPosition, encodeBinlogPosition } from "./position.js";
import type { TableSchema } from "./schema.js";
import { openConsistentSnapshot, readRange } from "./snapshot.js";
import { type KeyTuple, decodeBoundaries, encodeBoundaries, planTable, rangesOf } from "./snapshot-plan.js";

export interface LoadSettings {
  readonly snapshotNumRowsPerPartition: number;
  readonly snapshotNumberOfParallelTables: number;
  readonly initialLoadParallelism: number;
}

export interface LoadPlan {
  /** Where replication starts (stored, or read in the snapshot just opened). */
  readonly start: BinlogPosition;
  /** Tables still to load, with their range boundaries. */
  readonly tables: readonly { readonly schema: TableSchema; readonly boundaries: readonly KeyTuple[] }[];
  /** Bookkeeping to make durable with the first batch: the start position and new plans. */
  readonly progress: readonly Checkpoint[];
}

export type HandOver = (give: (sink: RecordSink) => Promise<void>) => Promise<boolean>;

/**
 * Plans what is left to load. Without a stored binlog position the snapshot is new: its
 * consistent view gives the start position and the plans. With one (a restart, or a table
 * mapping added later), tables not yet `done` are planned in a fresh consistent view or
 * resume their stored plan, and replication continues from the stored position.
 */
export async function planLoad(conn: Connection, settings: ServerSettings, opts: { byGtid: boolean; schemas: readonly TableSchema[]; stored: ReadonlyMap<string, string>; load: LoadSettings }): Promise<LoadPlan> {
  const storedStart = opts.stored.get(BINLOG_STREAM);
  const pending = opts.schemas.filter((s) => !snapshotDone(s.targetTable, opts.stored));
  const progress: Checkpoint[] = [];
  let start: BinlogPosition;
  if (storedStart === undefined) {
    start = await openConsistentSnapshot(conn, settings, opts.byGtid);
    progress.push({ stream: BINLOG_STREAM, position: encodeBinlogPosition(start) });
  } else {
    start = decodeBinlogPosition(storedStart);
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  }
  const tables: { schema: TableSchema; boundaries: KeyTuple[] }[] = [];
  try {
    for (const schema of pending) {
      const stream = planStream(schema.targetTable);
      const stored = decodeBoundaries(opts.stored.get(stream));
      const boundaries = stored ?? (await planTable(conn, schema, opts.load.snapshotNumRowsPerPartition));
      if (stored === undefined) progress.push({ stream, position: encodeBoundaries(boundaries) });
      tables.push({ schema, boundaries });
    }
  } finally {
    await conn.query("COMMIT");
  }
  return { start, tables, progress };
}

/** Reads every range not yet `done`, then marks each range and each table `done` (made durable after its rows). */
export async function runLoad(pool: Pool, plan: LoadPlan, opts: { stored: ReadonlyMap<string, string>; load: LoadSettings; handOver: HandOver; signal: AbortSignal }): Promise<void> {
  const { handOver, stored } = opts;
  const mustHand = async (give: (sink: RecordSink) => Promise<void>): Promise<void> => {
    if (!(await handOver(give))) throw new Error("the core stopped taking records during the initial load");
  };
  await forEachLimited(
    plan.tables,
    opts.load.snapshotNumberOfParallelTables,
    async ({ schema, boundaries }) => {
      const target = schema.targetTable;
      const ranges = rangesOf(target, boundaries).filter((r) => stored.get(partitionStream(target, r.index)) !== DONE);
      await forEachLimited(
        ranges,
        opts.load.initialLoadParallelism,
        async (range) => {
          const conn = await pool.getConnection();
          try {
            await readRange(conn, { schema, range, chunkRows: 2_000, deliver: (records) => mustHand((sink) => sink.onRecords(records)) });
          } finally {
            conn.release();
          }
          await mustHand((sink) => sink.onProgress([{ stream: partitionStream(target, range.index), position: DONE }]));
        },
        opts.signal,
      );
      if (!opts.signal.aborted) await mustHand((sink) => sink.onProgress([{ stream: planStream(target), position: DONE }]));
    },
    opts.signal,
  );
}
