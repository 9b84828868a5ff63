import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { chDigest, dropDatabase, freshDatabase, pgDigest, writePgPipeFile } from "./postgres-helpers.js";
import type pg from "pg";

const env = inject("stackEnv");
const ch = clickhouse(env);
const name = uniqueName("pgcdc");
let src: pg.Client;

const columns = ["id", "name", "price", "doc", "tags", "at"];

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  src = await freshDatabase(env, name);
  await src.query(`CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(12,2), doc jsonb, tags int[], at timestamptz)`);
  await src.query(`INSERT INTO items SELECT g, 'item ' || g, g * 1.5, jsonb_build_object('g', g), ARRAY[g, g + 1], '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 5000) g`);
});

afterAll(async () => {
  await src.end();
  await dropDatabase(env, name);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await ch.close();
});

describe("Postgres CDC", () => {
  it("loads the table, then follows inserts, updates and deletes", async () => {
    const file = writePgPipeFile(env, { name, pgDatabase: name, chDatabase: name, tables: ["items"], settings: { snapshotNumRowsPerPartition: 1000, initialLoadParallelism: 2 } });
    const consumer = startConsumer(file);
    try {
      await waitFor("snapshot in", async () => (await count(ch, `SELECT count() c FROM ${name}.items FINAL`)) === 5000, 60_000, consumer);
      await src.query(`UPDATE items SET name = 'changed', tags = '{}' WHERE id <= 100`);
      await src.query(`DELETE FROM items WHERE id > 4900`);
      await src.query(`INSERT INTO items VALUES (9001, 'new', 1.25, '{"a": [1, 2]}', '{7,NULL}', now())`);
      await waitFor(
        "changes in",
        async () => (await count(ch, `SELECT count() c FROM ${name}.items FINAL WHERE _peerdb_is_deleted = 0`)) === 4901 && (await count(ch, `SELECT count() c FROM ${name}.items FINAL WHERE name = 'changed'`)) === 100,
        120_000,
        consumer,
      );
      const expected = await pgDigest(src, "items", columns, ["tags"]);
      expect(await chDigest(ch, name, "items", columns, ["tags"])).toEqual(expected);
      const [engine] = await queryRows<{ engine_full: string }>(ch, `SELECT engine_full FROM system.tables WHERE database = '${name}' AND name = 'items'`);
      expect(engine?.engine_full).toMatch(/^ReplacingMergeTree\(_peerdb_version, _peerdb_is_deleted\)/);
    } finally {
      await stopConsumer(consumer);
    }
  }, 300_000);
});
