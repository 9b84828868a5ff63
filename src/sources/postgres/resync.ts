/**
 * A resync of a Postgres pipe (bookkeeping in ../cdc/resync-plan.ts). A slot exports a
 * snapshot only when it is created, so the pipe's slot (the user's named one too) is
 * dropped and created again with an exported snapshot; every mapped table is loaded into a
 * fresh `<table>_resync` (the DDL of the table as the catalog has it now) on that
 * snapshot; then each is swapped in with EXCHANGE TABLES and the old rows dropped, and
 * replication goes on from the new slot's start. Queries read the old table until its
 * swap. Every step is recorded (or recognised) so a consumer killed anywhere resumes.
 */
import type pg from "pg";
import type { SqlRunner } from "../../clickhouse/client.js";
import type { Logger } from "../../ingest/logger.js";
import type { TableMapping } from "../cdc/model.js";
import { resyncPosition, resyncStage, resyncTable, RESYNC_STREAM, staleSnapshotStreams, withoutStale, type ResyncStage } from "../cdc/resync-plan.js";
import { ResyncTables } from "../cdc/resync-tables.js";
import { DONE, planStream, snapshotDone } from "../cdc/snapshot-plan.js";
import { targetTableOf, targetTableSql } from "../cdc/target-table.js";
import type { PgTable } from "./catalog.js";
import type { TableState } from "./rows.js";
import { encodeColumns, schemaStream } from "./schema-store.js";
import { createSlot, dropSlot, slotExists, type CreatedSlot } from "./slot.js";
import { tableStates } from "./tables.js";

export interface ResyncDeps {
  readonly id: string;
  readonly control: pg.Client;
  readonly config: pg.ClientConfig;
  readonly slot: string;
  /** The checkpoint-store stream of the slot's position. */
  readonly slotStream: string;
  readonly clickhouse: SqlRunner;
  readonly database: string;
  /** The mapped tables as the catalog describes them now. */
  readonly tables: ReadonlyMap<TableMapping, PgTable>;
  readonly checkpoints: ReadonlyMap<string, string>;
  readonly logger: Logger;
  progress(stream: string, position: string): Promise<void>;
  /** Inserts and commits what the sink holds, then has it (re)read these tables' columns. */
  flush(tables: readonly string[]): Promise<void>;
  /** The initial load of `states` (on `snapshotName` when given), as the source runs any. */
  snapshot(states: TableState[], checkpoints: ReadonlyMap<string, string>, snapshotName: string | undefined): Promise<void>;
}

/** The fresh states: the catalog's shape, written to `<table>_resync`. */
function freshStates(deps: ResyncDeps): TableState[] {
  return [...tableStates(deps.database, deps.tables, new Map()).values()].map((s) => ({ ...s, mapping: { ...s.mapping, targetTable: resyncTable(s.mapping.targetTable) } }));
}

/** Starts afresh: the fresh tables (empty), their bookkeeping reset, the slot recreated with its snapshot. */
async function begin(deps: ResyncDeps, tables: ResyncTables, lives: readonly string[]): Promise<{ created: CreatedSlot; checkpoints: Map<string, string> }> {
  await tables.recreate([...deps.tables].map(([m, t]) => ({ live: m.targetTable, ddl: targetTableSql(targetTableOf(deps.database, m, t), resyncTable(m.targetTable)) })));
  const stale = staleSnapshotStreams(lives, deps.checkpoints);
  for (const stream of stale) await deps.progress(stream, "");
  if (await dropSlot(deps.control, deps.slot)) deps.logger.info({ slot: deps.slot }, "resync: replication slot dropped, to be created again with a snapshot");
  const created = await createSlot(deps.config, deps.slot, true);
  deps.logger.info({ slot: deps.slot, consistentPoint: created.consistentPoint, resync: deps.id }, "resync: replication slot created");
  await deps.progress(deps.slotStream, created.consistentPoint);
  await deps.progress(RESYNC_STREAM, resyncPosition(deps.id, "loading"));
  await deps.flush([]);
  return { created, checkpoints: withoutStale(deps.checkpoints, stale) };
}

/** Runs (or resumes) resync `deps.id`; resolves once every table is swapped in and that is committed. */
export async function runResync(deps: ResyncDeps): Promise<void> {
  const fresh = freshStates(deps);
  const lives = [...deps.tables.keys()].map((m) => m.targetTable);
  const tables = new ResyncTables(deps.clickhouse, deps.database, deps.id, deps.logger);
  let stage: ResyncStage = resyncStage(deps.id, deps.checkpoints.get(RESYNC_STREAM));
  if (stage === "done") return;
  if (stage === "loading" && !((await slotExists(deps.control, deps.slot)) && (await tables.intact(lives)))) stage = "fresh";
  deps.logger.info({ resync: deps.id, stage, tables: lives }, stage === "fresh" ? "resync starting" : "resync resuming");
  const started = stage === "fresh" ? await begin(deps, tables, lives) : undefined;
  const checkpoints = started?.checkpoints ?? deps.checkpoints;
  try {
    const toLoad = fresh.filter((s) => !snapshotDone(s.mapping.targetTable, checkpoints));
    if (toLoad.length > 0) {
      // The sink learns the fresh tables' columns before their first rows.
      await deps.flush(toLoad.map((s) => s.mapping.targetTable));
      await deps.snapshot(toLoad, checkpoints, started?.created.snapshotName);
    }
  } finally {
    // The connection only held the exported snapshot open; the load is over (or failed with its own error), so a failed close changes nothing.
    await started?.created.connection.end().catch(() => undefined);
  }
  await deps.flush([]);
  await tables.swapIn(lives);
  for (const [i, live] of lives.entries()) {
    await deps.progress(planStream(live), DONE);
    await deps.progress(schemaStream(live), encodeColumns(fresh[i]?.columns ?? []));
  }
  await deps.progress(RESYNC_STREAM, resyncPosition(deps.id, "done"));
  await deps.flush(lives);
  deps.logger.info({ resync: deps.id, tables: lives }, "resync done: every table swapped in");
}
