/**
 * A resync of a MySQL pipe (bookkeeping in ../cdc/resync-plan.ts, ClickHouse side in
 * ../cdc/resync-tables.ts): every mapped table is loaded into a fresh `<table>_resync` as an
 * initial load is, from a new consistent snapshot whose binlog position becomes where
 * replication starts; each is then swapped in with EXCHANGE TABLES and replication goes on
 * from that position. Queries read the old table until its swap. A consumer killed while
 * loading resumes the load (its plans and position are in the checkpoint store).
 */
import type { MysqlSource } from "../../api/index.js";
import type { SqlRunner } from "../../clickhouse/client.js";
import type { Logger } from "../../ingest/logger.js";
import type { Checkpoint, RecordSink } from "../../ingest/source.js";
import { resyncPosition, resyncStage, resyncTable, RESYNC_STREAM, staleSnapshotStreams, withoutStale, type ResyncStage } from "../cdc/resync-plan.js";
import { ResyncTables } from "../cdc/resync-tables.js";
import { DONE, planStream } from "../cdc/snapshot-plan.js";
import { targetTableOf, targetTableSql } from "../cdc/target-table.js";
import type { HandOver } from "./initial-load.js";
import { BINLOG_STREAM } from "./position.js";
import { cdcSourceTable, type TableSchema } from "./schema.js";

export interface MysqlResync {
  readonly id: string;
  readonly tables: ResyncTables;
  readonly lives: readonly string[];
  /** The mapped tables, written to `<table>_resync`. */
  readonly schemas: readonly TableSchema[];
  /** The checkpoints as the load must see them (a fresh resync: no position, so a new consistent snapshot fixes it). */
  readonly stored: ReadonlyMap<string, string>;
  /** Made durable with the load's first bookkeeping: stale streams reset, `resync` = `<id>:loading`. */
  readonly progress: readonly Checkpoint[];
}

export interface ResyncContext {
  readonly id: string | undefined;
  readonly spec: MysqlSource;
  readonly clickhouse: SqlRunner | undefined;
  readonly database: string;
  readonly logger: Logger;
}

/** The resync asked for and not done yet, with what its load needs; undefined when there is none to run. */
export async function prepareResync(ctx: ResyncContext, schemas: readonly TableSchema[], stored: ReadonlyMap<string, string>): Promise<MysqlResync | undefined> {
  const { id, clickhouse } = ctx;
  if (id === undefined || clickhouse === undefined || ctx.spec.settings.replicationMode === "snapshot") return undefined;
  let stage: ResyncStage = resyncStage(id, stored.get(RESYNC_STREAM));
  if (stage === "done") return undefined;
  const lives = schemas.map((s) => s.targetTable);
  const tables = new ResyncTables(clickhouse, ctx.database, id, ctx.logger);
  if (stage === "loading" && !(await tables.intact(lives))) stage = "fresh";
  ctx.logger.info({ resync: id, stage, tables: lives }, stage === "fresh" ? "resync starting" : "resync resuming");
  const fresh = schemas.map((s) => ({ ...s, targetTable: resyncTable(s.targetTable) }));
  if (stage === "loading") return { id, tables, lives, schemas: fresh, stored, progress: [] };
  await tables.recreate(
    schemas.map((s) => {
      const mapping = ctx.spec.tableMappings.find((m) => m.targetTable === s.targetTable) ?? { sourceSchemaName: s.database, sourceTable: s.table, targetTable: s.targetTable };
      return { live: s.targetTable, ddl: targetTableSql(targetTableOf(ctx.database, mapping, cdcSourceTable(s)), resyncTable(s.targetTable)) };
    }),
  );
  const stale = staleSnapshotStreams(lives, stored);
  const clean = withoutStale(stored, [...stale, BINLOG_STREAM]);
  return { id, tables, lives, schemas: fresh, stored: clean, progress: [...stale.map((stream) => ({ stream, position: "" })), { stream: RESYNC_STREAM, position: resyncPosition(id, "loading") }] };
}

/** After the fresh tables' load is handed over: everything committed, each table swapped in, the resync recorded done. */
export async function finishResync(resync: MysqlResync, handOver: HandOver): Promise<boolean> {
  if (!(await handOver(async (sink) => sink.onTablesChanged?.([])))) return false;
  await resync.tables.swapIn(resync.lives);
  const done: Checkpoint[] = [...resync.lives.map((live) => ({ stream: planStream(live), position: DONE })), { stream: RESYNC_STREAM, position: resyncPosition(resync.id, "done") }];
  return handOver(async (sink: RecordSink) => {
    await sink.onProgress(done);
    await sink.onTablesChanged?.(resync.lives);
  });
}
