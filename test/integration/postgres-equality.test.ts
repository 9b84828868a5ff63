/**
 * The test that matters most: after a snapshot and 100,000 random changes (one transaction
 * of 200,000 rows besides), with the consumer killed -9 once during the snapshot and once
 * during replication and Postgres restarted once, every ClickHouse table read with FINAL
 * and `_peerdb_is_deleted = 0` equals its Postgres table: row count and a checksum over all
 * columns (toasted text, numeric, jsonb, arrays, timestamptz, composite key, date, boolean).
 */
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { clickhouse, count, privateComponent, startConsumer, stopConsumer, uniqueName, waitFor, type PrivateComponent, type StackEnv } from "./ingest-helpers.js";
import { chDigest, freshDatabase, pgAdmin, pgDigest, writePgPipeFile, type TableDigest } from "./postgres-helpers.js";

const stackEnv: StackEnv = inject("stackEnv");
const ch = clickhouse(stackEnv);
/** The stack's env with a private Postgres, which this test restarts without disturbing the suites that share the stack's. */
let env: StackEnv = stackEnv;
let postgres: PrivateComponent;
const name = uniqueName("pgeq");

interface Table {
  readonly name: string;
  readonly columns: readonly string[];
  readonly arrays: readonly string[];
}

const TABLES: readonly Table[] = [
  { name: "docs", columns: ["id", "body", "score", "meta", "tags", "updated"], arrays: ["tags"] },
  { name: "orders", columns: ["id", "customer", "amount", "qty", "placed", "note"], arrays: ["qty"] },
  { name: "events", columns: ["k1", "k2", "payload", "flag", "day"], arrays: [] },
];

const SEED = 20_000;
/** Changes made by the random workload (rows inserted, updated or deleted), besides the 200,000-row transaction. */
const CHANGES = 100_000;

const SCHEMA = `
CREATE TABLE docs (id bigint PRIMARY KEY, body text, score numeric(14,4), meta jsonb, tags text[], updated timestamptz);
CREATE TABLE orders (id int PRIMARY KEY, customer int NOT NULL, amount numeric, qty int[], placed timestamptz, note varchar(50));
CREATE TABLE events (k1 int, k2 text, payload jsonb, flag boolean, day date, PRIMARY KEY (k1, k2));
`;

/** A value Postgres keeps out of line (TOAST): about 6 KB of random hex does not compress below the 2 KB threshold. */
const TOASTED = `(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 200))`;

function docsRow(id: string): string {
  return `(${id}, CASE WHEN random() < 0.15 THEN ${TOASTED} ELSE 'short ' || ${id} END, round((random() * 100000)::numeric, 4), jsonb_build_object('id', ${id}, 'v', random()), ARRAY['a' || ${id}, NULL, 'b'], now() - random() * interval '1000 days')`;
}

async function seed(src: pg.Client): Promise<void> {
  await src.query(SCHEMA);
  await src.query(`INSERT INTO docs SELECT * FROM (SELECT g, CASE WHEN g % 7 = 0 THEN ${TOASTED} ELSE 'doc ' || g END, round((random() * 1000)::numeric, 4), jsonb_build_object('g', g, 'nested', jsonb_build_array(g, 'x')), ARRAY['t' || g, 'u'], '2020-01-01 00:00:00+00'::timestamptz + g * interval '1 minute' FROM generate_series(1, ${SEED}) g) s`);
  await src.query(`INSERT INTO orders SELECT g, g % 500, (g * 3.14159)::numeric, ARRAY[g, g * 2, NULL], '2021-06-01 12:00:00.123456+00'::timestamptz + g * interval '1 second', 'note ' || g FROM generate_series(1, ${SEED}) g`);
  await src.query(`INSERT INTO events SELECT g, 'k' || (g % 10), jsonb_build_object('e', g), g % 2 = 0, date '2022-01-01' + (g % 365) FROM generate_series(1, ${SEED}) g`);
  await src.query("ANALYZE");
}

/** One random transaction of about `size` changes over the three tables; returns the rows it changed. */
async function randomTransaction(src: pg.Client, size: number, nextId: { value: number }): Promise<number> {
  const n = Math.max(3, Math.floor(size / 9));
  const ids = (max: number): number[] => Array.from({ length: n }, () => 1 + Math.floor(Math.random() * max));
  const fresh = Array.from({ length: n }, () => nextId.value++);
  const statements = [
    `INSERT INTO docs VALUES ${fresh.map((id) => docsRow(String(id))).join(", ")}`,
    // Not touching body: its TOASTed value must survive in ClickHouse.
    `UPDATE docs SET score = round((random() * 100)::numeric, 4), tags = ARRAY['upd', NULL], updated = now() WHERE id = ANY('{${ids(nextId.value).join(",")}}')`,
    `DELETE FROM docs WHERE id = ANY('{${ids(nextId.value).join(",")}}')`,
    `INSERT INTO orders SELECT g, g % 500, (random() * 1e6)::numeric(20,6), ARRAY[g], now(), 'n' || g FROM unnest('{${fresh.join(",")}}'::int[]) g ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount`,
    `UPDATE orders SET amount = amount + 0.5, note = left(md5(random()::text), 20), qty = qty || 1 WHERE id = ANY('{${ids(nextId.value).join(",")}}')`,
    `DELETE FROM orders WHERE id = ANY('{${ids(nextId.value).join(",")}}')`,
    `INSERT INTO events SELECT g, 'r' || (g % 13), jsonb_build_object('r', random()), random() < 0.5, date '2023-01-01' + (g % 700) FROM unnest('{${fresh.join(",")}}'::int[]) g ON CONFLICT DO NOTHING`,
    `UPDATE events SET flag = NOT flag, payload = payload || '{"u": 1}' WHERE k1 = ANY('{${ids(nextId.value).join(",")}}')`,
    `DELETE FROM events WHERE k1 = ANY('{${ids(nextId.value).join(",")}}') AND k2 LIKE 'k%'`,
  ];
  let changed = 0;
  await src.query("BEGIN");
  for (const sql of statements) changed += (await src.query(sql)).rowCount ?? 0;
  await src.query("COMMIT");
  return changed;
}

async function workload(changes: number, nextId: { value: number }): Promise<void> {
  const src = pgAdmin(env, name);
  await src.connect();
  try {
    for (let done = 0; done < changes; ) done += await randomTransaction(src, 300, nextId);
  } finally {
    await src.end();
  }
}

async function digests(src: pg.Client): Promise<{ pg: TableDigest[]; ch: TableDigest[] }> {
  const result: { pg: TableDigest[]; ch: TableDigest[] } = { pg: [], ch: [] };
  // One query at a time on the one Postgres client.
  for (const t of TABLES) {
    result.pg.push(await pgDigest(src, t.name, t.columns, t.arrays));
    result.ch.push(await chDigest(ch, name, t.name, t.columns, t.arrays));
  }
  return result;
}

let src: pg.Client;

beforeAll(async () => {
  postgres = await privateComponent("postgres");
  env = { ...stackEnv, ...postgres.env };
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  src = await freshDatabase(env, name);
  await seed(src);
});

afterAll(async () => {
  // The client may already be closed by the restart step; the instance goes either way.
  await src.end().catch(() => undefined);
  if (process.env.KEEP_PG_EQUALITY === "1") return;
  await postgres.destroy();
  await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await ch.close();
});

it("equals the source after kill -9 in snapshot and replication and a Postgres restart", async () => {
  const file = writePgPipeFile(env, {
    name,
    pgDatabase: name,
    chDatabase: name,
    tables: TABLES.map((t) => t.name),
    settings: { snapshotNumRowsPerPartition: 2_000, initialLoadParallelism: 2, snapshotNumberOfParallelTables: 2, pullBatchSize: 20_000 },
    pipeSettings: { maxBatchRows: 20_000 },
  });
  const nextId = { value: SEED + 1 };
  const rows = async (): Promise<number> => count(ch, `SELECT (SELECT count() FROM ${name}.docs) + (SELECT count() FROM ${name}.orders) + (SELECT count() FROM ${name}.events) AS c`);

  // 1. kill -9 during the snapshot.
  const first = startConsumer(file);
  await waitFor("part of the snapshot in", async () => (await rows().catch(() => 0)) >= 4_000, 120_000, first);
  first.child.kill("SIGKILL");
  await first.exited;
  expect(await rows()).toBeLessThan(3 * SEED);

  // 2. A new consumer resumes the snapshot while half the random changes run.
  const second = startConsumer(file);
  await workload(CHANGES / 2, nextId);
  // 3. One transaction of 200,000 rows (streamed while in progress), and kill -9 while it is being inserted.
  const before = await count(ch, `SELECT count() c FROM ${name}.orders`);
  await src.query(`INSERT INTO orders SELECT g, g % 500, g::numeric / 7, ARRAY[g % 10], now(), 'bulk' FROM generate_series(10000000, 10199999) g`);
  await waitFor("part of the big transaction in", async () => (await count(ch, `SELECT count() c FROM ${name}.orders`)) > before + 20_000, 180_000, second);
  second.child.kill("SIGKILL");
  await second.exited;

  // 4. A third consumer; a quarter of the changes, a Postgres restart, the last quarter.
  const third = startConsumer(file);
  try {
    await workload(CHANGES / 4, nextId);
    await src.end();
    await postgres.stop();
    await postgres.start();
    env = { ...stackEnv, ...postgres.env };
    src = pgAdmin(env, name);
    await src.connect();
    await workload(CHANGES / 4, nextId);

    let last: { pg: TableDigest[]; ch: TableDigest[] } | undefined;
    await waitFor(
      "ClickHouse equal to Postgres",
      async () => {
        last = await digests(src);
        return JSON.stringify(last.pg) === JSON.stringify(last.ch);
      },
      240_000,
      third,
    ).catch((err: unknown) => {
      throw new Error(`${String(err).slice(0, 300)}\npostgres: ${JSON.stringify(last?.pg)}\nclickhouse: ${JSON.stringify(last?.ch)}`);
    });
    expect(last?.ch).toEqual(last?.pg);
    expect(last?.pg.reduce((n, d) => n + d.count, 0)).toBeGreaterThan(200_000);
    expect(await count(ch, `SELECT count() c FROM ${name}.docs_clickpipes_error`)).toBe(0);
  } finally {
    await stopConsumer(third);
  }
}, 900_000);
