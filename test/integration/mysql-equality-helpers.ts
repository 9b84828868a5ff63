import type { ClickHouseClient } from "@clickhouse/client";
import type { Connection } from "mysql2/promise";
import { count, queryRows } from "./ingest-helpers.js";

/**
 * The three source tables of the equality tests and, per table, one canonical text per row
 * written once in MySQL's SQL and once in ClickHouse's, so `count` and the sum of the rows'
 * CRC32 can be compared between the source and `FINAL WHERE _peerdb_is_deleted = 0`.
 */
export const TABLES = {
  t_int: {
    ddl: "id INT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL, s VARCHAR(40) NOT NULL, d DECIMAL(12,2) NOT NULL, ts DATETIME(6) NOT NULL",
    mysql: "CONCAT_WS('|', id, a, s, CAST(d * 100 AS SIGNED), DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'))",
    clickhouse: "concatWithSeparator('|', toString(id), toString(a), s, toString(toInt64(d * 100)), toString(assumeNotNull(ts)))",
  },
  t_str: {
    ddl: "k VARCHAR(36) PRIMARY KEY, n BIGINT NOT NULL, body TEXT NOT NULL",
    mysql: "CONCAT_WS('|', k, n, body, IFNULL(extra, 'N'))",
    clickhouse: "concatWithSeparator('|', k, toString(n), body, ifNull(toString(extra), 'N'))",
  },
  t_comp: {
    ddl: "a INT NOT NULL, b INT NOT NULL, flag ENUM('x','y','z') NOT NULL, cnt INT UNSIGNED NOT NULL, PRIMARY KEY (a, b)",
    mysql: "CONCAT_WS('|', a, b, flag, cnt)",
    clickhouse: "concatWithSeparator('|', toString(a), toString(b), flag, toString(cnt))",
  },
} as const;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

export interface Fingerprint {
  readonly rows: number;
  readonly checksum: string;
}

/** The t_str expressions before `extra` exists. */
function expr(table: TableName, side: "mysql" | "clickhouse", hasExtra: boolean): string {
  const e = TABLES[table][side];
  if (table !== "t_str" || hasExtra) return e;
  return side === "mysql" ? "CONCAT_WS('|', k, n, body, 'N')" : "concatWithSeparator('|', k, toString(n), body, 'N')";
}

export async function sourceFingerprint(my: Connection, db: string, table: TableName, hasExtra = true): Promise<Fingerprint> {
  const [rows] = await my.query(`SELECT COUNT(*) AS _rows, CAST(COALESCE(SUM(CRC32(${expr(table, "mysql", hasExtra)})), 0) AS CHAR) AS _sum FROM ${db}.${table}`);
  const row = (rows as { _rows: number | string; _sum: string }[])[0];
  return { rows: Number(row?._rows ?? 0), checksum: String(row?._sum ?? "0") };
}

/** `target`: the ClickHouse table when it is named otherwise than the source table. */
export async function targetFingerprint(ch: ClickHouseClient, db: string, table: TableName, hasExtra = true, target: string = table): Promise<Fingerprint> {
  const rows = await queryRows<{ _rows: string; _sum: string }>(
    ch,
    `SELECT count() AS _rows, toString(sum(CRC32(${expr(table, "clickhouse", hasExtra)}))) AS _sum FROM ${db}.${target} FINAL WHERE _peerdb_is_deleted = 0`,
  );
  return { rows: Number(rows[0]?._rows ?? 0), checksum: rows[0]?._sum ?? "0" };
}

/** The pipe's positions as the checkpoint store holds them. */
export async function storedPositions(ch: ClickHouseClient, db: string, pipe: string): Promise<Map<string, string>> {
  const rows = await queryRows<{ stream: string; position: string }>(
    ch,
    `SELECT source_position AS stream, argMax(position, last_insert_time) AS position FROM ${db}.clickpipes_state WHERE pipe = '${pipe}' GROUP BY source_position`,
  );
  return new Map(rows.map((r) => [r.stream, r.position]));
}

/** Snapshot ranges marked done in the checkpoint store. */
export async function rangesDone(ch: ClickHouseClient, db: string, pipe: string): Promise<number> {
  return [...(await storedPositions(ch, db, pipe))].filter(([stream, position]) => /^snapshot\/[^/]+\/\d+$/.test(stream) && position === "done").length;
}

export async function tablesDone(ch: ClickHouseClient, db: string, pipe: string): Promise<number> {
  return [...(await storedPositions(ch, db, pipe))].filter(([stream, position]) => /^snapshot\/[^/]+$/.test(stream) && position === "done").length;
}

export { count };

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (r: () => number, n: number): number => Math.floor(r() * n);
const word = (r: () => number): string => Math.floor(r() * 36 ** 8).toString(36);
const stamp = (r: () => number): string => `2024-0${1 + pick(r, 9)}-1${pick(r, 9)} 1${pick(r, 9)}:${10 + pick(r, 49)}:${10 + pick(r, 49)}.${String(pick(r, 999_999)).padStart(6, "0")}`;

/** One random insert, update or delete on one of the three tables. */
export function randomStatement(r: () => number, db: string, extra: boolean): string {
  const op = r();
  switch (pick(r, 3)) {
    case 0: {
      const id = 1 + pick(r, 320_000);
      if (op < 0.4) return `INSERT INTO ${db}.t_int (a, s, d, ts) VALUES (${pick(r, 1e6)}, '${word(r)}', ${pick(r, 1e6) / 100}, '${stamp(r)}')`;
      if (op < 0.8) return `UPDATE ${db}.t_int SET a = a + 1, s = '${word(r)}', ts = '${stamp(r)}' WHERE id = ${id}`;
      return `DELETE FROM ${db}.t_int WHERE id = ${id}`;
    }
    case 1: {
      const k = `k${pick(r, 40_000)}`;
      const cols = extra ? ", extra" : "";
      const vals = extra ? `, ${pick(r, 1000)}` : "";
      if (op < 0.4) return `INSERT INTO ${db}.t_str (k, n, body${cols}) VALUES ('${k}', ${pick(r, 2 ** 40)}, '${word(r)}${word(r)}'${vals}) ON DUPLICATE KEY UPDATE n = n + 1`;
      if (op < 0.8) return `UPDATE ${db}.t_str SET n = ${pick(r, 2 ** 40)}, body = '${word(r)}'${extra ? `, extra = ${pick(r, 1000)}` : ""} WHERE k = '${k}'`;
      return `DELETE FROM ${db}.t_str WHERE k = '${k}'`;
    }
    default: {
      const [a, b] = [pick(r, 300), pick(r, 300)];
      if (op < 0.4) return `INSERT INTO ${db}.t_comp VALUES (${a}, ${b}, '${"xyz"[pick(r, 3)]}', ${pick(r, 4e9)}) ON DUPLICATE KEY UPDATE cnt = cnt + 1`;
      if (op < 0.8) return `UPDATE ${db}.t_comp SET flag = '${"xyz"[pick(r, 3)]}', cnt = ${pick(r, 4e9)} WHERE a = ${a} AND b = ${b}`;
      return `DELETE FROM ${db}.t_comp WHERE a = ${a} AND b = ${b}`;
    }
  }
}

export interface Workload {
  /** Resolves with the statements run once all are done. */
  readonly done: Promise<number>;
  /** Statements committed so far. */
  readonly ran: () => number;
  /** Waits for the transaction in flight, then holds (for a server restart). */
  pause(): Promise<void>;
  resume(): void;
  /** From now on t_str writes fill the column added mid-stream. */
  useExtra(): void;
}

/** `total` random statements in transactions of 1-40, on a connection of its own. */
export function startWorkload(connect: () => Promise<Connection>, db: string, total: number, seed: number): Workload {
  const r = prng(seed);
  let ran = 0;
  let extra = false;
  let hold: Promise<void> | undefined;
  let release: (() => void) | undefined;
  let paused: (() => void) | undefined;
  const done = (async () => {
    let conn = await connect();
    while (ran < total) {
      if (hold !== undefined) {
        paused?.();
        await hold;
        // The server went away meanwhile: drop the old connection without a goodbye it cannot answer.
        conn.destroy();
        conn = await connect();
      }
      const n = Math.min(total - ran, 1 + pick(r, 40));
      const statements = Array.from({ length: n }, () => randomStatement(r, db, extra));
      await conn.query(`START TRANSACTION; ${statements.join("; ")}; COMMIT`);
      ran += n;
    }
    await conn.end();
    return ran;
  })();
  return {
    done,
    ran: () => ran,
    pause: () => {
      hold = new Promise((resolve) => (release = resolve));
      const held = new Promise<void>((resolve) => (paused = resolve));
      return Promise.race([held, done.then(() => undefined)]);
    },
    resume: () => {
      hold = undefined;
      release?.();
    },
    useExtra: () => {
      extra = true;
    },
  };
}
