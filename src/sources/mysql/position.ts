/**
 * Positions of a MySQL pipe, as the checkpoint store keeps them (opaque to the core):
 *
 * - stream `binlog`: where replication resumes, `{"file","pos","gtid"?}`. Written first with
 *   the position read in the snapshot's consistent view, then only ever a transaction
 *   boundary: records inside a transaction carry the boundary before it and the commit moves
 *   it on, so a restart replays a half-inserted transaction whole.
 * - streams `snapshot/<target>` (the table's primary-key ranges, then `done`) and
 *   `snapshot/<target>/<n>` (`done` once range n is in): the shared CDC bookkeeping
 *   (cdc/snapshot-plan.ts).
 */
import { ConfigError } from "../../ingest/errors.js";

export const BINLOG_STREAM = "binlog";
/** Position of a snapshot range's records until the range is whole (then `done`). */
export const RANGE_READING = "reading";

export interface BinlogPosition {
  readonly file: string;
  readonly pos: number;
  /** MariaDB GTID position (`0-1-42`) or MySQL executed GTID set (`uuid:1-42`), when the server has GTIDs. */
  readonly gtid?: string;
}

export function encodeBinlogPosition(p: BinlogPosition): string {
  return JSON.stringify(p.gtid === undefined ? { file: p.file, pos: p.pos } : { file: p.file, pos: p.pos, gtid: p.gtid });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function decodeBinlogPosition(text: string): BinlogPosition {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the stored binlog position ${JSON.stringify(text)} is not JSON: ${String(err)}`);
  }
  if (!isRecord(v) || typeof v.file !== "string" || typeof v.pos !== "number") {
    throw new ConfigError(`the stored binlog position ${JSON.stringify(text)} lacks file and pos`);
  }
  return typeof v.gtid === "string" ? { file: v.file, pos: v.pos, gtid: v.gtid } : { file: v.file, pos: v.pos };
}

/** The sequence number of a binlog file name (`mariadb-bin.000042` → 42). */
export function binlogFileNumber(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  if (m?.[1] === undefined) throw new ConfigError(`binlog file name ${JSON.stringify(file)} has no numeric extension`);
  return Number(m[1]);
}

/**
 * `_peerdb_version` of a binlog row: the file number in the high bits and the row's byte
 * offset in the file below (the event's start plus the row's index: each row takes at least
 * a byte of its event, so rows of one event stay distinct and ordered). It grows with the
 * binlog and is the same when a transaction is replayed. Snapshot rows have version 0, so
 * any change read from the binlog replaces them.
 */
export function binlogVersion(fileNumber: number, eventStart: number, rowIndex: number): bigint {
  return (BigInt(fileNumber) << 32n) + BigInt(eventStart + rowIndex);
}
