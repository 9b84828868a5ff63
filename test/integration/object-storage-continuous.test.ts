/**
 * Continuous object storage pipes on the S3 server, through `clickpipes run` processes:
 * files added while a pipe runs are ingested in lexical order (and a key before the last
 * one is not, as in ClickPipes); a consumer killed with SIGKILL in the middle of a large
 * file and restarted leaves every row exactly once (the file's insert deduplication token on
 * a table with a deduplication window); 2 replicas never ingest one file twice.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { type TestStore, idLines, logSoFar, storeAvailable, testStore, writeObjectPipeFile } from "./object-storage-helpers.js";

const env = inject("stackEnv");
const enabled = storeAvailable(env, "s3");
const ch = clickhouse(env);
const db = uniqueName("os_cont");
let store: TestStore;

/** A table that deduplicates retried inserts (Replicated/SharedMergeTree do by default; a plain MergeTree needs the window). */
async function dedupTable(table: string): Promise<void> {
  await ch.command({
    query: `CREATE TABLE ${db}.${table} (id UInt64, name String, _file String) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000`,
  });
}

function pipeFile(name: string, table: string, folder: string): string {
  return writeObjectPipeFile(env, {
    name,
    database: db,
    table,
    managedTable: false,
    source: { ...store.source(`${folder}/**/*.json*`), format: "JSONEachRow", continuous: true },
    secrets: store.secrets,
  });
}

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  store = await testStore(env, "s3", `os-cont-${randomBytes(4).toString("hex")}`);
});

afterAll(async () => {
  if (enabled) {
    store.close();
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  }
  await ch.close();
});

describe.skipIf(!enabled)("object storage continuous (S3 server)", () => {
  it("ingests files added while running, in lexical order, and not a key before the last one", async () => {
    await dedupTable("ordered");
    await store.put("ordered/2024/01/f001.json", idLines(100, 10));
    const consumer = startConsumer(pipeFile("ordered", "ordered", "ordered"));
    try {
      await waitFor("the first file", async () => (await count(ch, `SELECT count() FROM ${db}.ordered`)) === 10, 60_000, consumer);
      await store.put("ordered/2024/02/f003.json", idLines(300, 10));
      await store.put("ordered/2024/01/f002.json", idLines(200, 10));
      await store.put("ordered/2024/03/f004.json", idLines(400, 10));
      await waitFor("the 3 added files", async () => (await count(ch, `SELECT count() FROM ${db}.ordered`)) === 40, 60_000, consumer);
      // Lexically before the last ingested key: ClickPipes' continuous mode never takes it.
      await store.put("ordered/2024/02/f000.json", idLines(900, 10));
      await store.put("ordered/2024/04/f005.json", idLines(500, 10));
      await waitFor("f005", async () => (await count(ch, `SELECT count() FROM ${db}.ordered`)) >= 50, 60_000, consumer);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() FROM ${db}.ordered`)).toBe(50);
    expect(await count(ch, `SELECT countIf(id >= 900) FROM ${db}.ordered`)).toBe(0);
    const order = await queryRows<{ key: string }>(ch, `SELECT path AS key FROM ${db}.ordered_clickpipes_archive WHERE pipe = 'test/ordered' AND status = 'done' ORDER BY time, path`);
    expect(order.map((r) => r.key)).toEqual(["ordered/2024/01/f001.json", "ordered/2024/01/f002.json", "ordered/2024/02/f003.json", "ordered/2024/03/f004.json", "ordered/2024/04/f005.json"]);
  }, 240_000);

  it("kill -9 in the middle of a large file and a restart leave every row exactly once", async () => {
    await dedupTable("killed");
    const big = 6_000_000;
    await ch.command({
      query: `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'JSONEachRow', 'id UInt64, name String', 'gzip')
              SELECT number, concat('name-', toString(number)) FROM numbers(${big}) SETTINGS s3_truncate_on_insert = 1`,
      query_params: { url: `${env.S3_ENDPOINT}/${store.bucket}/killed/a-big.json.gz`, k: env.S3_ACCESS_KEY_ID, s: env.S3_SECRET_ACCESS_KEY },
    });
    await store.put("killed/b-small.json", idLines(10_000_000, 100));
    const file = pipeFile("killed", "killed", "killed");
    const first = startConsumer(file);
    try {
      // Killed as soon as it consumes: the big file's insert (seconds long) is in flight.
      while (!logSoFar(first).includes('"consuming"')) await new Promise((r) => setTimeout(r, 20));
      first.child.kill("SIGKILL");
      await first.exited;
    } finally {
      await stopConsumer(first, "SIGKILL");
    }
    expect(first.log()).not.toContain('"key":"killed/a-big.json.gz","status":"inserted"');
    const second = startConsumer(file);
    try {
      await waitFor("both files after the restart", () => Promise.resolve(logSoFar(second).includes('"key":"killed/b-small.json","status":"inserted"')), 180_000, second);
      expect(await stopConsumer(second)).toBe(0);
    } finally {
      await stopConsumer(second, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() FROM ${db}.killed`)).toBe(big + 100);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.killed`)).toBe(big + 100);
  }, 300_000);

  it("2 replicas split the files and never ingest one twice", async () => {
    // No deduplication window here: a file ingested twice would show as duplicate rows.
    await ch.command({ query: `CREATE TABLE ${db}.split (id UInt64, name String, _file String) ENGINE = MergeTree ORDER BY id` });
    for (let i = 0; i < 12; i++) await store.put(`split/d${i % 3}/f${String(i).padStart(2, "0")}.json`, idLines(i * 1000, 25));
    const file = pipeFile("split", "split", "split");
    const replicas = [0, 1].map((index) => startConsumer(file, { CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: String(index) }));
    try {
      await waitFor("12 files", async () => (await count(ch, `SELECT count() FROM ${db}.split`)) >= 300, 120_000, replicas[0]);
      for (let i = 12; i < 16; i++) await store.put(`split/d9/f${i}.json`, idLines(i * 1000, 25));
      await waitFor("16 files", async () => (await count(ch, `SELECT count() FROM ${db}.split`)) >= 400, 120_000, replicas[1]);
      for (const r of replicas) expect(await stopConsumer(r)).toBe(0);
    } finally {
      for (const r of replicas) await stopConsumer(r, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() FROM ${db}.split`)).toBe(400);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.split`)).toBe(400);
    // Each file once in the table of ingested files: one done row per key, 25 rows each.
    const perFile = await queryRows<{ key: string; batches: string; rows: string }>(
      ch,
      `SELECT path AS key, toString(count()) AS batches, toString(sum(rows)) AS rows FROM ${db}.split_clickpipes_archive WHERE pipe = 'test/split' AND status = 'done' GROUP BY key`,
    );
    expect(perFile).toHaveLength(16);
    for (const f of perFile) expect([f.key, f.batches, f.rows]).toEqual([f.key, "1", "25"]);
    // Both replicas took a share.
    for (const r of replicas) expect(r.log()).toContain('"file ingested"');
  }, 300_000);
});
