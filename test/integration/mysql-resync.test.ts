/**
 * A resync of a MySQL pipe (`clickpipes run` with the resync id the operator would give):
 * rows deleted in ClickHouse by hand, which replication never restores, come back once the
 * table is reloaded into `t_str_resync` and swapped in; queries on the target are answered
 * throughout (the consumer killed -9 once while it loads), and replication goes on from the
 * new snapshot's binlog position.
 */
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor, type Consumer } from "./ingest-helpers.js";
import { TABLES, sourceFingerprint, storedPositions, targetFingerprint } from "./mysql-equality-helpers.js";
import { dropTestDatabases, mysqlConnection, writeMysqlPipeFile } from "./mysql-helpers.js";
import { withResyncId } from "./resync-helpers.js";

const env = inject("stackEnv");
const enabled = env.MYSQL_URL !== undefined;
const ch = clickhouse(env);
const db = uniqueName("mysql_resync");
const src = uniqueName("resync");
const pipe = "resync";
let my: Connection;
let consumer: Consumer | undefined;

const file = (resyncId?: string): string => {
  const f = writeMysqlPipeFile(env, { name: pipe, database: db, tables: [{ sourceSchemaName: src, sourceTable: "t_str", targetTable: "t_str" }], settings: { snapshotNumRowsPerPartition: 2_000, initialLoadParallelism: 1 } });
  return resyncId === undefined ? f : withResyncId(f, resyncId);
};
const live = (where = "1"): Promise<number> => count(ch, `SELECT count() AS c FROM ${db}.t_str FINAL WHERE _peerdb_is_deleted = 0 AND ${where}`);

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  my = await mysqlConnection(env);
  await my.query(`CREATE DATABASE ${src} CHARACTER SET utf8mb4`);
  await my.query(`CREATE TABLE ${src}.t_str (${TABLES.t_str.ddl})`);
  await my.query(`INSERT INTO ${src}.t_str SELECT LPAD(seq, 8, '0'), seq, CONCAT('body ', seq) FROM ${src}.seq_1_to_60000`);
});

afterAll(async () => {
  if (!enabled) return;
  if (consumer !== undefined) await stopConsumer(consumer, "SIGKILL");
  await dropTestDatabases(ch, my, db, src);
});

describe.skipIf(!enabled)("MySQL resync", () => {
  it("reloads a drifted table into a new one and swaps it in, queries answered throughout, then replicates on", async () => {
    consumer = startConsumer(file());
    await waitFor("initial load", async () => (await live()) === 60_000, 120_000, consumer);
    await ch.command({ query: `ALTER TABLE ${db}.t_str DELETE WHERE n <= 700 SETTINGS mutations_sync = 2` });
    await stopConsumer(consumer);
    await my.query(`UPDATE ${src}.t_str SET body = 'changed' WHERE n BETWEEN 1001 AND 1100`);
    expect(await live()).toBe(59_300);

    const answers: number[] = [];
    let polling = true;
    const poller = (async (): Promise<void> => {
      while (polling) {
        answers.push(await live());
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    consumer = startConsumer(file("r1"));
    // kill -9 once while it loads t_str_resync: the restarted consumer resumes the load.
    const resync = async (): Promise<string | undefined> => (await storedPositions(ch, db, `test/${pipe}`)).get("resync");
    const freshRangesDone = async (): Promise<number> => [...(await storedPositions(ch, db, `test/${pipe}`))].filter(([stream, p]) => stream.startsWith("snapshot/t_str_resync/") && p === "done").length;
    await waitFor("a range of t_str_resync in", async () => (await freshRangesDone()) >= 1 || (await resync()) === "r1:done", 120_000, consumer);
    const killedMidway = (await resync()) !== "r1:done";
    consumer.child.kill("SIGKILL");
    await consumer.exited;
    consumer = startConsumer(file("r1"));
    await waitFor("resync done", async () => (await storedPositions(ch, db, `test/${pipe}`)).get("resync") === "r1:done", 180_000, consumer);
    polling = false;
    await poller;
    if (killedMidway) expect(consumer.log()).toContain("resync resuming");
    expect(answers.every((n) => n === 59_300 || n === 60_000)).toBe(true);
    expect(await targetFingerprint(ch, db, "t_str", false)).toEqual(await sourceFingerprint(my, src, "t_str", false));
    expect(await queryRows(ch, `SELECT name, comment FROM system.tables WHERE database = '${db}' AND name LIKE 't_str%' AND name NOT LIKE '%error' ORDER BY name`)).toEqual([{ name: "t_str", comment: "clickpipes resync r1" }]);

    await my.query(`INSERT INTO ${src}.t_str VALUES ('new', 1, 'after'); DELETE FROM ${src}.t_str WHERE n = 2`);
    await waitFor("changes after the swap", async () => (await live("k = 'new'")) === 1 && (await live("n = 2")) === 0, 60_000, consumer);
    expect(await targetFingerprint(ch, db, "t_str", false)).toEqual(await sourceFingerprint(my, src, "t_str", false));
  });
});
