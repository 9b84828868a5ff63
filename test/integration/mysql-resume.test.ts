import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, type Consumer, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { TABLES, sourceFingerprint, startWorkload, storedPositions, targetFingerprint } from "./mysql-equality-helpers.js";
import { dropTestDatabases, mysqlConnection, writeMysqlPipeFile } from "./mysql-helpers.js";

/**
 * Resume after kill -9 by each mechanism: the stored binlog position is a GTID position
 * (gtid) or a file and offset (filePosition), and the restarted consumer continues from it
 * with nothing lost (the tables end equal to the source).
 */
const env = inject("stackEnv");
const enabled = env.MYSQL_URL !== undefined;
const ch = clickhouse(env);
const db = uniqueName("mysql_resume");
const src = uniqueName("resume");
let my: Connection;
let running: Consumer | undefined;

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  my = await mysqlConnection(env);
  await my.query(`CREATE DATABASE ${src} CHARACTER SET utf8mb4`);
  for (const name of ["t_int", "t_str", "t_comp"] as const) await my.query(`CREATE TABLE ${src}.${name} (${TABLES[name].ddl}${name === "t_str" ? ", extra INT NULL" : ""})`);
});

afterAll(async () => {
  if (!enabled) return;
  if (running !== undefined) await stopConsumer(running, "SIGKILL");
  await dropTestDatabases(ch, my, db, src);
});

describe.skipIf(!enabled).each([
  { mechanism: "gtid", gtid: /^0-1-\d+$/ },
  { mechanism: "filePosition", gtid: undefined },
] as const)("MySQL CDC resume by $mechanism", ({ mechanism, gtid }) => {
  it(`kill -9 mid-stream, then resumes from the ${mechanism} position with nothing lost`, async () => {
    const pipe = `resume-${mechanism.toLowerCase()}`;
    const table = "t_str";
    const target = `${table}_${mechanism.toLowerCase()}`;
    const file = writeMysqlPipeFile(env, { name: pipe, database: db, tables: [{ sourceSchemaName: src, sourceTable: table, targetTable: target }], settings: { replicationMechanism: mechanism } });
    let consumer = (running = startConsumer(file));
    await waitFor("the consumer reading the binlog", () => Promise.resolve(consumer.log().includes("reading the binlog")), 60_000, consumer);
    const workload = startWorkload(() => mysqlConnection(env), src, 6_000, mechanism.length);
    workload.useExtra();
    await waitFor("a stored binlog position after some changes", async () => workload.ran() > 2_000 && (await storedPositions(ch, db, `test/${pipe}`)).has("binlog"), 120_000, consumer);
    consumer.child.kill("SIGKILL");
    await consumer.exited;
    const position = JSON.parse((await storedPositions(ch, db, `test/${pipe}`)).get("binlog") ?? "{}") as { file?: string; pos?: number; gtid?: string };
    expect(position.file).toMatch(/^mariadb-bin\.\d+$/);
    expect(position.pos).toBeGreaterThan(4);
    if (gtid === undefined) expect(position.gtid).toBeUndefined();
    else expect(position.gtid).toMatch(gtid);
    consumer = running = startConsumer(file);
    await workload.done;
    await waitFor("ClickHouse equal to MariaDB", async () => {
      const [a, b] = await Promise.all([sourceFingerprint(my, src, table), targetFingerprint(ch, db, table, true, target)]);
      return a.rows === b.rows && a.checksum === b.checksum;
    }, 180_000, consumer);
    // The log reaches its file through the parent's stream: wait for the line rather than read it once.
    const resumed = `"byGtid":${mechanism === "gtid"}`;
    await waitFor("the consumer's resume line in its log", () => Promise.resolve(consumer.log().includes(resumed)), 30_000, consumer);
    expect(consumer.log()).toContain(resumed);
    await stopConsumer(consumer);
  }, 300_000);
});
