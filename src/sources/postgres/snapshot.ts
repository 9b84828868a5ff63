/**
 * The initial load: every mapped table not yet loaded, split into CTID ranges of about
 * `snapshotNumRowsPerPartition` rows, `snapshotNumberOfParallelTables` tables and
 * `initialLoadParallelism` partitions per table at once, each partition one `COPY (SELECT
 * ... WHERE ctid range) TO STDOUT` in a REPEATABLE READ transaction on the slot's exported
 * snapshot (when this consumer created the slot). Each partition is marked done in the
 * checkpoint store once its rows are in, so a restart loads only the rest (bookkeeping in
 * ../cdc/snapshot-plan.ts).
 */
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { Logger } from "../../ingest/logger.js";
import type { RawRecord } from "../../ingest/source.js";
import { forEachLimited } from "../cdc/pool.js";
import { DONE, decodePlan, encodePlan, partitionStream, pendingPartitions, planPartitions, planStream, type PartitionRange, type TablePlan } from "../cdc/snapshot-plan.js";
import { quoteIdent, tableSize } from "./catalog.js";
import { decodeCopyLine, LineSplitter } from "./copy-text.js";
import { convertTuple, toRecord, type TableState, type Tuple } from "./rows.js";

export interface SnapshotSettings {
  readonly rowsPerPartition: number;
  readonly parallelTables: number;
  readonly parallelism: number;
}

export interface SnapshotDeps {
  readonly config: pg.ClientConfig;
  /** The slot's exported snapshot; absent when resuming (replication from the slot's start covers what changed since). */
  readonly snapshotName?: string | undefined;
  readonly checkpoints: ReadonlyMap<string, string>;
  readonly settings: SnapshotSettings;
  readonly deliver: (records: readonly RawRecord[]) => Promise<void>;
  readonly progress: (stream: string, position: string) => Promise<void>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

const CHUNK = 2_000;
/** Rows per page assumed for a never-analyzed table (reltuples unknown), so it is still split. */
const ROWS_PER_PAGE_GUESS = 60;

function rangeSql(range: PartitionRange): string {
  const from = `ctid >= '(${range.from},0)'::tid`;
  return range.to === undefined ? from : `${from} AND ctid < '(${range.to},0)'::tid`;
}

function copySql(state: TableState, range: PartitionRange): string {
  const m = state.mapping;
  const columns = state.columns.map((c) => quoteIdent(c.name)).join(", ");
  return `COPY (SELECT ${columns} FROM ${quoteIdent(m.sourceSchemaName)}.${quoteIdent(m.sourceTable)} WHERE ${rangeSql(range)}) TO STDOUT`;
}

async function planOf(client: pg.ClientBase, state: TableState, deps: SnapshotDeps): Promise<TablePlan> {
  const table = state.mapping.targetTable;
  const stored = decodePlan(table, deps.checkpoints.get(planStream(table)));
  if (stored !== undefined) return stored;
  const size = await tableSize(client, state.mapping.sourceSchemaName, state.mapping.sourceTable);
  const rows = size.rows > 0 ? size.rows : size.pages * ROWS_PER_PAGE_GUESS;
  const plan = { table, partitions: planPartitions(size.pages, rows, deps.settings.rowsPerPartition) };
  await deps.progress(planStream(table), encodePlan(plan));
  return plan;
}

function rowsOf(state: TableState, lines: readonly string[], stream: string, now: number): RawRecord[] {
  return lines.map((line) => {
    const fields = decodeCopyLine(line);
    const tuple: Tuple = Object.fromEntries(state.columns.map((c, i) => [c.name, fields[i] ?? null]));
    return toRecord(state, "insert", convertTuple(state, tuple), tuple, { stream, position: "loading", version: 0n, timestamp: now });
  });
}

async function copyPartition(client: pg.Client, state: TableState, range: PartitionRange, stream: string, deps: SnapshotDeps): Promise<number> {
  const copy = client.query(copyTo(copySql(state, range)));
  const lines = new LineSplitter();
  let pending: string[] = [];
  let rows = 0;
  for await (const chunk of copy as AsyncIterable<Buffer>) {
    pending.push(...lines.push(chunk));
    if (pending.length < CHUNK) continue;
    rows += pending.length;
    await deps.deliver(rowsOf(state, pending, stream, Date.now()));
    pending = [];
    if (deps.signal.aborted) throw new Error("snapshot stopped");
  }
  rows += pending.length;
  if (pending.length > 0) await deps.deliver(rowsOf(state, pending, stream, Date.now()));
  return rows;
}

async function loadPartition(state: TableState, plan: TablePlan, index: number, deps: SnapshotDeps): Promise<void> {
  const range = plan.partitions[index] as PartitionRange;
  const stream = partitionStream(plan.table, index);
  const client = new pg.Client(deps.config);
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (deps.snapshotName !== undefined) await client.query(`SET TRANSACTION SNAPSHOT '${deps.snapshotName.replaceAll("'", "''")}'`);
    const rows = await copyPartition(client, state, range, stream, deps);
    await client.query("COMMIT");
    await deps.progress(stream, DONE);
    deps.logger.info({ table: plan.table, partition: index, of: plan.partitions.length, rows }, "snapshot partition read");
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function loadTable(state: TableState, deps: SnapshotDeps): Promise<void> {
  const table = state.mapping.targetTable;
  const control = new pg.Client(deps.config);
  await control.connect();
  let plan: TablePlan;
  try {
    plan = await planOf(control, state, deps);
  } finally {
    await control.end().catch(() => undefined);
  }
  const pending = pendingPartitions(plan, deps.checkpoints);
  deps.logger.info({ table, partitions: plan.partitions.length, pending: pending.length }, "snapshot of table starting");
  await forEachLimited(pending, deps.settings.parallelism, (i) => loadPartition(state, plan, i, deps), deps.signal);
  await deps.progress(planStream(table), DONE);
}

/** Loads `tables` (those whose snapshot is not done); resolves when every row was handed to the sink. */
export async function runSnapshot(tables: readonly TableState[], deps: SnapshotDeps): Promise<void> {
  await forEachLimited(tables, deps.settings.parallelTables, (t) => loadTable(t, deps), deps.signal);
}
