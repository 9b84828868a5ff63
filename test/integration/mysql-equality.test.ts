/**
 * The MySQL CDC equality test (issue "MySQL and MariaDB CDC"): three tables, a snapshot
 * killed with kill -9 half-way, 100,000 random inserts/updates/deletes while the pipe runs,
 * one 200,000-row transaction, kill -9 during replication, an ADD COLUMN mid-stream and a
 * MariaDB restart; then `FINAL WHERE _peerdb_is_deleted = 0` equals the source tables
 * (count and checksum of every row).
 */
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, type Consumer, type PrivateComponent, privateComponent, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { TABLES, TABLE_NAMES, rangesDone, sourceFingerprint, startWorkload, storedPositions, tablesDone, targetFingerprint } from "./mysql-equality-helpers.js";
import { dropTestDatabases, mysqlConnection, writeMysqlPipeFile } from "./mysql-helpers.js";

const stackEnv = inject("stackEnv");
const enabled = stackEnv.MYSQL_URL !== undefined;
/** A MariaDB of this test's own: it is restarted here while other suites use the shared one. */
let mariadb: PrivateComponent | undefined;
let env = stackEnv;
const ch = clickhouse(env);
const db = uniqueName("mysql_eq");
const src = uniqueName("eq");
const PIPE = "test/equality";
let my: Connection;
/** The consumer running now, killed in afterAll too (a timed-out test leaves no stray process). */
let running: Consumer | undefined;

beforeAll(async () => {
  if (!enabled) return;
  mariadb = await privateComponent("mariadb");
  env = { ...stackEnv, ...mariadb.env };
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  my = await mysqlConnection(env);
  await my.query(`CREATE DATABASE ${src} CHARACTER SET utf8mb4`);
  for (const name of TABLE_NAMES) await my.query(`CREATE TABLE ${src}.${name} (${TABLES[name].ddl})`);
  // Enough rows that the snapshot takes a few seconds in ranges of 5,000 (kill -9 lands in it).
  await my.query(`INSERT INTO ${src}.t_int (a, s, d, ts) SELECT seq, CONCAT('s', seq), seq / 100, '2024-01-01 00:00:00.000001' + INTERVAL seq SECOND FROM ${src}.seq_1_to_60000`);
  await my.query(`INSERT INTO ${src}.t_str (k, n, body) SELECT CONCAT('k', seq), seq * 7, REPEAT('b', seq MOD 50) FROM ${src}.seq_0_to_19999`);
  await my.query(`INSERT INTO ${src}.t_comp SELECT seq DIV 100, seq MOD 100, ELT(1 + seq MOD 3, 'x', 'y', 'z'), seq FROM ${src}.seq_0_to_19999`);
}, 120_000);

afterAll(async () => {
  if (!enabled) return;
  if (running !== undefined) await stopConsumer(running, "SIGKILL");
  await dropTestDatabases(ch, my, db, src);
  await mariadb?.destroy();
});

async function equal(hasExtra: boolean): Promise<boolean> {
  for (const table of TABLE_NAMES) {
    const [a, b] = await Promise.all([sourceFingerprint(my, src, table, hasExtra), targetFingerprint(ch, db, table, hasExtra)]);
    if (a.rows !== b.rows || a.checksum !== b.checksum) return false;
  }
  return true;
}

describe.skipIf(!enabled)("MySQL CDC equality under faults (MariaDB 10.11)", () => {
  it("ends equal to the source after kill -9 in the snapshot and in replication, a 200,000-row transaction, ADD COLUMN and a server restart", async () => {
    const file = writeMysqlPipeFile(env, {
      name: "equality",
      database: db,
      tables: TABLE_NAMES.map((t) => ({ sourceSchemaName: src, sourceTable: t, targetTable: t })),
      settings: { snapshotNumRowsPerPartition: 5_000, initialLoadParallelism: 2, snapshotNumberOfParallelTables: 2 },
      pipeSettings: { maxBatchRows: 20_000, streamingMaxInsertWaitTime: "300ms" },
    });
    let consumer: Consumer = (running = startConsumer(file));
    const workload = startWorkload(() => mysqlConnection(env), src, 100_000, 20261130);
    try {
      // 1. kill -9 half-way through the snapshot: some ranges in, not all tables.
      await waitFor("a snapshot range in ClickHouse", async () => (await rangesDone(ch, db, PIPE)) >= 2, 120_000, consumer);
      consumer.child.kill("SIGKILL");
      await consumer.exited;
      expect(await tablesDone(ch, db, PIPE)).toBeLessThan(3);

      // 2. Resume: only the pending ranges are read again; then the 200,000-row transaction.
      consumer = running = startConsumer(file);
      await waitFor("the snapshot of all three tables", async () => (await tablesDone(ch, db, PIPE)) === 3, 180_000, consumer);
      await my.query(`INSERT INTO ${src}.t_int (a, s, d, ts) SELECT seq, 'big', 1.25, '2030-01-01 00:00:00.5' FROM ${src}.seq_1_to_200000`);

      // 3. kill -9 during replication, while the big transaction and the random writes stream.
      const before = (await storedPositions(ch, db, PIPE)).get("binlog");
      await waitFor("replication progress", async () => (await storedPositions(ch, db, PIPE)).get("binlog") !== before, 120_000, consumer);
      consumer.child.kill("SIGKILL");
      await consumer.exited;
      consumer = running = startConsumer(file);
      const reading = consumer;
      await waitFor("the restarted consumer reading the binlog", () => Promise.resolve(reading.log().includes("reading the binlog")), 60_000, consumer);

      // 4. ADD COLUMN mid-stream; later writes fill it.
      await my.query(`ALTER TABLE ${src}.t_str ADD COLUMN extra INT NULL`);
      workload.useExtra();

      // 5. Restart MariaDB under the running consumer (it reconnects from the last transaction it handed over).
      await workload.pause();
      await mariadb?.stop();
      await mariadb?.start();
      await my.end();
      my = await mysqlConnection(env);
      workload.resume();

      expect(await workload.done).toBe(100_000);
      await waitFor("ClickHouse equal to MariaDB (count and checksum of every table)", () => equal(true), 300_000, consumer);
      for (const table of TABLE_NAMES) expect(await targetFingerprint(ch, db, table)).toEqual(await sourceFingerprint(my, src, table));
      expect(JSON.parse((await storedPositions(ch, db, PIPE)).get("binlog") ?? "{}")).toHaveProperty("gtid");
      expect(consumer.log()).toMatch(/the binlog stream broke; reconnecting/);
    } finally {
      workload.resume();
      await stopConsumer(consumer);
    }
  }, 600_000);
});
