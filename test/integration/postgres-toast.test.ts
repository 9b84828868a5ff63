import type pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { dropDatabase, freshDatabase, writePgPipeFile } from "./postgres-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const name = uniqueName("pgtoast");
let src: pg.Client;
const BIG = `(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 200))`;

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  src = await freshDatabase(env, name);
  await src.query(`CREATE TABLE docs (id bigint PRIMARY KEY, body text, n int)`);
  await src.query(`INSERT INTO docs SELECT g, ${BIG}, 0 FROM generate_series(1, 50) g`);
});

afterAll(async () => {
  await src.end();
  await dropDatabase(env, name);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await ch.close();
});

it("keeps an unchanged TOASTed value when an UPDATE does not touch it (REPLICA IDENTITY DEFAULT)", async () => {
  const consumer = startConsumer(writePgPipeFile(env, { name, pgDatabase: name, chDatabase: name, tables: ["docs"] }));
  try {
    await waitFor("snapshot in", async () => (await count(ch, `SELECT count() c FROM ${name}.docs FINAL`)) === 50, 60_000, consumer);
    // Inserted during replication, then updated in a later transaction, and in the same one.
    await src.query(`INSERT INTO docs SELECT g, ${BIG}, 0 FROM generate_series(51, 60) g`);
    await src.query(`UPDATE docs SET n = 1`);
    await src.query(`BEGIN; INSERT INTO docs SELECT 61, ${BIG}, 0; UPDATE docs SET n = 2 WHERE id = 61; COMMIT`);
    await waitFor("updates in", async () => (await count(ch, `SELECT count() c FROM ${name}.docs FINAL WHERE n >= 1`)) === 61, 60_000, consumer);
    const pgRows = (await src.query<{ id: string; body: string }>(`SELECT id::text, body FROM docs ORDER BY id`)).rows;
    const chRows = await queryRows<{ id: string; body: string }>(ch, `SELECT toString(id) id, body FROM ${name}.docs FINAL ORDER BY id`);
    expect(chRows.filter((r, i) => r.body !== pgRows[i]?.body).map((r) => r.id)).toEqual([]);
    expect(pgRows[0]?.body.length).toBeGreaterThan(6000);
  } finally {
    await stopConsumer(consumer);
  }
}, 180_000);
