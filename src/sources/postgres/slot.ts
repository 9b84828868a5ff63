/**
 * The replication slot and publication of a pipe: created when missing (the pipe's own, or
 * the user's named ones if absent), the publication kept to the mapped tables, dropped on
 * deletion only when the pipe created them. Also the slot's WAL figures for lag and the
 * retained-WAL condition.
 */
import pg from "pg";
import { SourceError } from "../../ingest/errors.js";
import type { TableMapping } from "../cdc/model.js";
import { quoteIdent, quoteLiteral } from "./catalog.js";
import type { ReplicationNames } from "./config.js";

function tableList(mappings: readonly TableMapping[]): string {
  return mappings.map((m) => `${quoteIdent(m.sourceSchemaName)}.${quoteIdent(m.sourceTable)}`).join(", ");
}

/**
 * The publication: the pipe's own is created for the mapped tables and kept equal to them
 * (a mapping added or removed changes it); a user's publication is used as it is.
 */
export async function ensurePublication(client: pg.ClientBase, names: ReplicationNames, mappings: readonly TableMapping[]): Promise<void> {
  const found = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [names.publication]);
  const pub = quoteIdent(names.publication);
  if (found.rowCount === 0) {
    await client.query(`CREATE PUBLICATION ${pub} FOR TABLE ${tableList(mappings)}`);
    return;
  }
  if (names.ownPublication) await client.query(`ALTER PUBLICATION ${pub} SET TABLE ${tableList(mappings)}`);
}

export async function slotExists(client: pg.ClientBase, slot: string): Promise<boolean> {
  const found = await client.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]);
  return (found.rowCount ?? 0) > 0;
}

export interface CreatedSlot {
  /** Where replication starts: every change after it is replayed. */
  readonly consistentPoint: string;
  /** The exported snapshot, valid while `connection` stays open and idle. */
  readonly snapshotName: string | undefined;
  readonly connection: pg.Client;
}

/**
 * Creates the pgoutput slot on a replication connection, exporting its snapshot so the
 * initial load sees exactly the data the slot's first change follows. The connection must
 * stay open (and run nothing else) while the snapshot is used.
 */
export async function createSlot(config: pg.ClientConfig, slot: string, exportSnapshot: boolean): Promise<CreatedSlot> {
  const connection = new pg.Client({ ...config, replication: "database" } as pg.ClientConfig);
  await connection.connect();
  try {
    const mode = exportSnapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT";
    const result = await connection.query<{ consistent_point: string; snapshot_name: string | null }>(`CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput ${mode}`);
    const row = result.rows[0];
    if (row === undefined) throw new SourceError(`CREATE_REPLICATION_SLOT ${slot} returned nothing`, { retriable: true });
    return { consistentPoint: row.consistent_point, snapshotName: row.snapshot_name ?? undefined, connection };
  } catch (err) {
    await connection.end().catch(() => undefined);
    throw err;
  }
}

/** Drops a slot if it exists, ending the walsender that holds it (a consumer killed a moment ago may still hold it); true when it was there. */
export async function dropSlot(client: pg.ClientBase, slot: string): Promise<boolean> {
  if (!(await slotExists(client, slot))) return false;
  await client.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [slot]);
  // The terminated walsender releases the slot asynchronously: wait (bounded) for it.
  await client.query(
    `DO $$ BEGIN FOR i IN 1..100 LOOP EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ${quoteLiteral(slot)} AND active); PERFORM pg_sleep(0.1); END LOOP; END $$`,
  );
  await client.query("SELECT pg_drop_replication_slot($1)", [slot]);
  return true;
}

/** Drops what the pipe created: its slot (ending the walsender that holds it) and its publication. Never the user's. */
export async function dropOwned(client: pg.ClientBase, names: ReplicationNames): Promise<string[]> {
  const dropped: string[] = [];
  if (names.ownSlot && (await dropSlot(client, names.slot))) dropped.push(`slot ${names.slot}`);
  if (names.ownPublication) {
    const found = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [names.publication]);
    if ((found.rowCount ?? 0) > 0) {
      await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(names.publication)}`);
      dropped.push(`publication ${names.publication}`);
    }
  }
  return dropped;
}

export interface SlotWal {
  /** WAL bytes written since the slot's confirmed flush position: what the pipe has not confirmed. */
  readonly lagBytes: number;
  /** WAL bytes the server keeps for the slot (since its restart_lsn): disk the slot holds. */
  readonly retainedBytes: number;
}

export async function slotWal(client: pg.ClientBase, slot: string): Promise<SlotWal | undefined> {
  const result = await client.query<{ lag: string | null; retained: string | null }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return { lagBytes: Math.max(0, Number(row.lag ?? 0)), retainedBytes: Math.max(0, Number(row.retained ?? 0)) };
}
