/**
 * A Postgres pipe over TLS (the server verified against caCertificateSecretRef) living
 * through schema changes (ADD, DROP and RENAME COLUMN mid-stream), a stop and a restart
 * (the slot keeps the changes made meanwhile), and a table mapping added to the running pipe
 * (that table alone is loaded, then replicated) and removed again (its table stays).
 */
import { readFileSync } from "node:fs";
import type pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor, type Consumer } from "./ingest-helpers.js";
import { dropDatabase, freshDatabase, writePgPipeFile } from "./postgres-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const name = uniqueName("pglife");
let src: pg.Client;

function pipeFile(tables: string[]): string {
  return writePgPipeFile(env, {
    name,
    pgDatabase: name,
    chDatabase: name,
    tables,
    source: { host: "localhost", tls: true, caCertificateSecretRef: { name: "pg-ca", key: "ca.crt" } },
    secrets: { "pg-ca": { "ca.crt": readFileSync(env.POSTGRES_CA_FILE as string, "utf8") } },
  });
}

const columnsOf = async (table: string): Promise<string[]> =>
  (await queryRows<{ name: string }>(ch, `SELECT name FROM system.columns WHERE database = '${name}' AND table = '${table}' AND name NOT LIKE '\\_peerdb%' ORDER BY position`)).map((r) => r.name);
const live = (table: string, where = "1"): Promise<number> => count(ch, `SELECT count() AS n FROM ${name}.${table} FINAL WHERE _peerdb_is_deleted = 0 AND ${where}`).catch(() => -1);

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  src = await freshDatabase(env, name);
  await src.query("CREATE TABLE t (id int PRIMARY KEY, a text)");
  await src.query("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 100) g");
  await src.query("CREATE TABLE u (id int PRIMARY KEY, v text)");
  await src.query("INSERT INTO u SELECT g, 'v' || g FROM generate_series(1, 50) g");
});

afterAll(async () => {
  await src.end();
  if (process.env.KEEP_PG_LIFECYCLE === "1") return;
  await dropDatabase(env, name);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await ch.close();
});

it("follows ADD, DROP and RENAME COLUMN; resumes after a stop; adds and removes a table mapping", async () => {
  let consumer: Consumer = startConsumer(pipeFile(["t"]));
  try {
    await waitFor("snapshot over TLS", async () => (await live("t")) === 100, 60_000, consumer);

    await src.query("ALTER TABLE t ADD COLUMN b int");
    await src.query("INSERT INTO t SELECT g, 'a' || g, g * 10 FROM generate_series(101, 110) g");
    await waitFor("rows with the new column", async () => (await live("t", "b >= 1010")) === 10, 60_000, consumer);
    expect(await columnsOf("t")).toEqual(["id", "a", "b"]);

    await src.query("ALTER TABLE t DROP COLUMN a");
    await src.query("INSERT INTO t VALUES (111, 7)");
    await waitFor("column a dropped", async () => !(await columnsOf("t")).includes("a") && (await live("t", "id = 111")) === 1, 60_000, consumer);

    await src.query("ALTER TABLE t RENAME COLUMN b TO c");
    await src.query("INSERT INTO t VALUES (112, 8)");
    await waitFor("column b renamed to c", async () => (await columnsOf("t")).join() === "id,c" && (await live("t", "c = 8")) === 1, 60_000, consumer);
    expect(await live("t", "c = 1010")).toBe(1);

    // Stopped: changes made meanwhile wait in the slot and arrive after the restart.
    await stopConsumer(consumer);
    await src.query("UPDATE t SET c = -1 WHERE id <= 50");
    await src.query("DELETE FROM t WHERE id > 100");
    consumer = startConsumer(pipeFile(["t"]));
    await waitFor("changes made while stopped", async () => (await live("t")) === 100 && (await live("t", "c = -1")) === 50, 60_000, consumer);
    await stopConsumer(consumer);

    // A table mapping added: u is loaded and replicated, t goes on.
    consumer = startConsumer(pipeFile(["t", "u"]));
    await waitFor("u loaded", async () => (await live("u")) === 50, 60_000, consumer);
    await src.query("INSERT INTO u VALUES (51, 'new'); UPDATE t SET c = 5 WHERE id = 1");
    await waitFor("u and t replicated", async () => (await live("u", "v = 'new'")) === 1 && (await live("t", "c = 5")) === 1, 60_000, consumer);
    await stopConsumer(consumer);

    // The mapping removed: u is no longer replicated, its table stays.
    consumer = startConsumer(pipeFile(["t"]));
    await src.query("INSERT INTO u VALUES (52, 'after removal'); UPDATE t SET c = 6 WHERE id = 1");
    await waitFor("t still replicated", async () => (await live("t", "c = 6")) === 1, 60_000, consumer);
    expect(await live("u")).toBe(51);
    const pub = await src.query<{ tablename: string }>("SELECT tablename FROM pg_publication_tables ORDER BY 1");
    expect(pub.rows.map((r) => r.tablename)).toEqual(["t"]);
  } finally {
    await stopConsumer(consumer);
  }
}, 400_000);
