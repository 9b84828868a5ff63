/**
 * The initial load: a consistent snapshot fixes where replication starts, then each table's
 * primary-key ranges are read, several at a time, each in a consistent-snapshot transaction
 * of its own. Ranges read later than the start position may hold newer rows than the start;
 * replication replays every change from the start with a higher `_peerdb_version`, so the
 * target converges on the source either way (ReplacingMergeTree keeps the highest version).
 */
import type { Connection, RowDataPacket } from "mysql2/promise";
import type { RawRecord } from "../../ingest/source.js";
import { type ServerSettings, isMariaDb } from "./checks.js";
import { partitionStream } from "../cdc/snapshot-plan.js";
import { type BinlogPosition, RANGE_READING } from "./position.js";
import { mysqlChangeRecord } from "./rows.js";
import { type TableSchema, quoteIdent } from "./schema.js";
import { type KeyRange, rangeFilter } from "./snapshot-plan.js";

interface StatusRow extends RowDataPacket {
  Variable_name: string;
  Value: string;
}

interface MasterRow extends RowDataPacket {
  File: string;
  Position: number | string;
}

interface GtidRow extends RowDataPacket {
  gtid: string | null;
}

async function masterStatus(conn: Connection): Promise<{ file: string; pos: number }> {
  const [rows] = await conn.query<MasterRow[]>("SHOW MASTER STATUS");
  const row = rows[0];
  if (row === undefined) throw new Error("SHOW MASTER STATUS returned nothing: the binary log is off");
  return { file: row.File, pos: Number(row.Position) };
}

/**
 * Opens a consistent snapshot on `conn` and returns the binlog position it corresponds to.
 * MariaDB (and Percona) report that position from inside the snapshot
 * (`binlog_snapshot_file`/`_position`), and BINLOG_GTID_POS turns it into a GTID position.
 * MySQL has no such status: its position (and gtid_executed) is read just before the
 * snapshot opens, so replication starts at or before the snapshot and replays, never skips.
 */
export async function openConsistentSnapshot(conn: Connection, settings: ServerSettings, gtid: boolean): Promise<BinlogPosition> {
  await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  if (isMariaDb(settings)) {
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    const [status] = await conn.query<StatusRow[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const v = new Map(status.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    const file = v.get("binlog_snapshot_file");
    const pos = Number(v.get("binlog_snapshot_position"));
    if (file === undefined || file === "" || !Number.isFinite(pos)) throw new Error("the server reported no binlog_snapshot_file/position in the consistent snapshot");
    if (!gtid) return { file, pos };
    const [rows] = await conn.query<GtidRow[]>("SELECT BINLOG_GTID_POS(?, ?) AS gtid", [file, pos]);
    return { file, pos, gtid: rows[0]?.gtid ?? "" };
  }
  const before = await masterStatus(conn);
  const [rows] = gtid ? await conn.query<GtidRow[]>("SELECT @@GLOBAL.gtid_executed AS gtid") : [[]];
  await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  const g = rows[0]?.gtid;
  return g === undefined || g === null ? before : { ...before, gtid: g };
}

export interface RangeReadOptions {
  readonly schema: TableSchema;
  readonly range: KeyRange;
  /** Records handed over per call. */
  readonly chunkRows: number;
  readonly deliver: (records: RawRecord[]) => Promise<void>;
}

interface StreamingQuery {
  stream(): NodeJS.ReadableStream & AsyncIterable<Record<string, unknown>>;
}

/**
 * Reads one range in a consistent snapshot of its own and hands its rows over in chunks
 * (awaiting each: the core's backpressure). Streams the result, so a range never sits whole
 * in memory. Rows have version 0: any binlog change replaces them.
 */
export async function readRange(conn: Connection, opts: RangeReadOptions): Promise<number> {
  const { schema, range } = opts;
  const filter = rangeFilter(schema.primaryKey, range);
  const cols = schema.columns.map((c) => quoteIdent(c.name)).join(", ");
  const sql = conn.format(`SELECT ${cols} FROM ${quoteIdent(schema.database, schema.table)}${filter.sql}`, filter.params);
  await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  const stream = partitionStream(schema.targetTable, range.index);
  let chunk: RawRecord[] = [];
  let count = 0;
  try {
    // The callback connection under the promise wrapper streams rows without buffering the result.
    const query = (conn as unknown as { connection: { query(sql: string): StreamingQuery } }).connection.query(sql);
    const now = Date.now();
    for await (const row of query.stream()) {
      chunk.push(mysqlChangeRecord(schema.columns, { targetTable: schema.targetTable, op: "insert", row, version: 0n, timestamp: now, stream, position: RANGE_READING }, Date.now()));
      count += 1;
      if (chunk.length >= opts.chunkRows) {
        await opts.deliver(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) await opts.deliver(chunk);
  } finally {
    await conn.query("COMMIT");
  }
  return count;
}

/** The server's current binlog position (cdc_only pipes start here). */
export async function currentPosition(conn: Connection, settings: ServerSettings, gtid: boolean): Promise<BinlogPosition> {
  const at = await masterStatus(conn);
  if (!gtid) return at;
  const [rows] = await conn.query<GtidRow[]>(isMariaDb(settings) ? "SELECT @@GLOBAL.gtid_binlog_pos AS gtid" : "SELECT @@GLOBAL.gtid_executed AS gtid");
  return { ...at, gtid: rows[0]?.gtid ?? "" };
}
