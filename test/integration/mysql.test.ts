import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { dropTestDatabases, mysqlConnection, writeMysqlPipeFile } from "./mysql-helpers.js";

const env = inject("stackEnv");
const enabled = env.MYSQL_URL !== undefined;
const ch = clickhouse(env);
const db = uniqueName("mysql_cdc");
const src = uniqueName("src");
let my: Connection;

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  my = await mysqlConnection(env);
  await my.query(`CREATE DATABASE ${src}`);
});

afterAll(async () => {
  if (!enabled) return;
  await dropTestDatabases(ch, my, db, src);
});

describe.skipIf(!enabled)("MySQL CDC → ClickHouse (MariaDB 10.11)", () => {
  it("snapshots, then replicates inserts, updates, deletes, an ADD COLUMN and a DROP COLUMN into a ReplacingMergeTree table", async () => {
    await my.query(`CREATE TABLE ${src}.items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INT UNSIGNED)`);
    await my.query(`INSERT INTO ${src}.items VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3)`);
    const file = writeMysqlPipeFile(env, { name: "basic", database: db, tables: [{ sourceSchemaName: src, sourceTable: "items", targetTable: "items" }] });
    const consumer = startConsumer(file);
    const live = (): Promise<{ id: number; name: string; qty: number | null }[]> =>
      queryRows(ch, `SELECT id, name, qty FROM ${db}.items FINAL WHERE _peerdb_is_deleted = 0 ORDER BY id`);
    try {
      await waitFor("the snapshot", async () => (await count(ch, `SELECT count() FROM ${db}.items FINAL`)) === 3, 60_000, consumer);
      await my.query(`INSERT INTO ${src}.items VALUES (4, 'four', NULL); UPDATE ${src}.items SET qty = 20 WHERE id = 2; DELETE FROM ${src}.items WHERE id = 1`);
      await waitFor("the changes", async () => JSON.stringify(await live()) === JSON.stringify([{ id: 2, name: "two", qty: 20 }, { id: 3, name: "three", qty: 3 }, { id: 4, name: "four", qty: null }]), 60_000, consumer);
      await my.query(`ALTER TABLE ${src}.items ADD COLUMN note VARCHAR(20) DEFAULT 'x'; INSERT INTO ${src}.items (id, name, note) VALUES (5, 'five', 'hello')`);
      await waitFor("the added column", async () => (await count(ch, `SELECT count() FROM ${db}.items FINAL WHERE note = 'hello'`)) === 1, 60_000, consumer);
      const types = await queryRows<{ name: string; type: string }>(ch, `SELECT name, type FROM system.columns WHERE database = '${db}' AND table = 'items' ORDER BY position`);
      expect(types).toEqual([
        { name: "id", type: "Int32" },
        { name: "name", type: "String" },
        { name: "qty", type: "Nullable(UInt32)" },
        { name: "_peerdb_synced_at", type: "DateTime64(9)" },
        { name: "_peerdb_is_deleted", type: "UInt8" },
        { name: "_peerdb_version", type: "Int64" },
        { name: "note", type: "Nullable(String)" },
      ]);
      const engine = await queryRows<{ engine_full: string }>(ch, `SELECT engine_full FROM system.tables WHERE database = '${db}' AND name = 'items'`);
      expect(engine[0]?.engine_full).toMatch(/^ReplacingMergeTree\(_peerdb_version, _peerdb_is_deleted\)/);
      await my.query(`ALTER TABLE ${src}.items DROP COLUMN qty; UPDATE ${src}.items SET name = 'THREE' WHERE id = 3`);
      await waitFor("the dropped column gone and a later change in", async () => {
        const names = await queryRows<{ name: string }>(ch, `SELECT name FROM system.columns WHERE database = '${db}' AND table = 'items'`);
        return !names.some((c) => c.name === "qty") && (await count(ch, `SELECT count() FROM ${db}.items FINAL WHERE name = 'THREE' AND _peerdb_is_deleted = 0`)) === 1;
      }, 60_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
  });
});
