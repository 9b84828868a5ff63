import { readFileSync } from "node:fs";
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseClickPipe } from "../../src/api/index.js";
import { secretsFromDocuments } from "../../src/ingest/secrets.js";
import { probeMysql } from "../../src/sources/mysql/probe.js";
import { clickhouse, count, type PrivateComponent, privateComponent, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { mysqlAdmin, mysqlConnection, mysqlPipeDocs, writeMysqlPipeFile } from "./mysql-helpers.js";

const stackEnv = inject("stackEnv");
const enabled = stackEnv.MYSQL_URL !== undefined;
/** A MariaDB of this test's own: its binlog settings are changed here while other suites use the shared one. */
let mariadb: PrivateComponent | undefined;
let env = stackEnv;
const ch = clickhouse(env);
const db = uniqueName("mysql_setup");
const src = uniqueName("setup");
const tlsUser = uniqueName("tls_only");
let my: Connection;
let admin: Connection;

beforeAll(async () => {
  if (!enabled) return;
  mariadb = await privateComponent("mariadb");
  env = { ...stackEnv, ...mariadb.env };
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  my = await mysqlConnection(env);
  admin = await mysqlAdmin(env);
  await my.query(`CREATE DATABASE ${src}; CREATE TABLE ${src}.t (id INT PRIMARY KEY, v VARCHAR(10))`);
  await my.query(`INSERT INTO ${src}.t VALUES (1, 'a'), (2, 'b')`);
  // A user the server accepts over TLS only: a pipe that works with it connected with TLS.
  await admin.query(`CREATE USER '${tlsUser}'@'%' IDENTIFIED BY 'tls-secret' REQUIRE SSL; GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO '${tlsUser}'@'%'`);
});

afterAll(async () => {
  if (!enabled) return;
  await admin.query(`SET GLOBAL binlog_row_image = 'FULL'; DROP USER IF EXISTS '${tlsUser}'@'%'`);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await my.query(`DROP DATABASE IF EXISTS ${src}`);
  await Promise.all([my.end(), admin.end()]);
  await ch.close();
  await mariadb?.destroy();
});

function loaded(o: Parameters<typeof mysqlPipeDocs>[1]): { pipe: ReturnType<typeof parseClickPipe>; secrets: ReturnType<typeof secretsFromDocuments> } {
  const [pipe, ...secrets] = mysqlPipeDocs(env, o);
  return { pipe: parseClickPipe(pipe), secrets: secretsFromDocuments(secrets) };
}

describe.skipIf(!enabled)("MySQL source setup: binlog settings check and TLS", () => {
  it("the probe says what to change when binlog_row_image is not FULL, and is reachable once it is", async () => {
    const { pipe, secrets } = loaded({ name: "probe", database: db, tables: [{ sourceSchemaName: src, sourceTable: "t", targetTable: "t" }] });
    await admin.query("SET GLOBAL binlog_row_image = 'MINIMAL'");
    const bad = await probeMysql(pipe, secrets, 5_000);
    expect(bad.reachability).toEqual({ ok: false, reason: "SourceNotConfigured", message: `MySQL at ${env.MYSQL_HOST}:${env.MYSQL_PORT} is not set up for CDC: binlog_row_image is MINIMAL: set binlog_row_image=FULL` });
    await admin.query("SET GLOBAL binlog_row_image = 'FULL'");
    expect((await probeMysql(pipe, secrets, 5_000)).reachability).toMatchObject({ ok: true, reason: "SourceReachable" });
  });

  it("connects with TLS, trusting the CA of caCertificateSecretRef (a REQUIRE SSL user), and fails without trusting it", async () => {
    const tables = [{ sourceSchemaName: src, sourceTable: "t", targetTable: "t" }];
    const secrets = { "mysql-creds": { username: tlsUser, password: "tls-secret" }, "mysql-ca": { "ca.crt": readFileSync(env.MYSQL_CA_FILE ?? "", "utf8") } };
    const wrong = loaded({ name: "tls-wrong", database: db, tables, source: { tls: true }, secrets });
    expect((await probeMysql(wrong.pipe, wrong.secrets, 5_000)).reachability).toMatchObject({ ok: false, reason: "SourceUnreachable", message: expect.stringMatching(/certificate/) as unknown });
    const file = writeMysqlPipeFile(env, { name: "tls", database: db, tables, source: { caCertificateSecretRef: { name: "mysql-ca", key: "ca.crt" } }, secrets });
    const consumer = startConsumer(file);
    try {
      await waitFor("the snapshot over TLS", async () => (await count(ch, `SELECT count() FROM ${db}.t FINAL`)) === 2, 60_000, consumer);
      await waitFor("the consumer reading the binlog", () => Promise.resolve(consumer.log().includes("reading the binlog")), 60_000, consumer);
      await my.query(`INSERT INTO ${src}.t VALUES (3, 'c')`);
      await waitFor("a change replicated over TLS", async () => (await count(ch, `SELECT count() FROM ${db}.t FINAL WHERE _peerdb_is_deleted = 0`)) === 3, 60_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
  });
});
