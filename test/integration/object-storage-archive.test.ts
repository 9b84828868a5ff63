/**
 * The table of ingested files (`<table>_clickpipes_archive`) through `clickpipes consume`
 * as the pipe's own ClickHouse user with the operator's `destinationOnly` grants (the
 * stack's front refuses what a server would): the consumer reads and writes it; and a
 * continuous pipe whose archive rows are gone (as the 7-day TTL removes them) still resumes
 * after its last key from clickpipes_state, ingesting no file twice. The table has no
 * deduplication window, so a file ingested again would show as duplicate rows.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadRunFile } from "../../src/ingest/config.js";
import { type PipeUser, clickhouse, count, provisionPipe, queryRows, startConsume, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { type TestStore, idLines, storeAvailable, testStore, writeObjectPipeFile } from "./object-storage-helpers.js";

const env = inject("stackEnv");
const enabled = storeAvailable(env, "s3");
const ch = clickhouse(env);
const db = uniqueName("os_arch");
let store: TestStore;

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  store = await testStore(env, "s3", `os-arch-${randomBytes(4).toString("hex")}`);
});

afterAll(async () => {
  if (enabled) {
    store.close();
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  }
  await ch.close();
});

describe.skipIf(!enabled)("the table of ingested files", () => {
  it("is written by the pipe's own user, and a continuous pipe resumes after its last key once its rows are gone", async () => {
    await ch.command({ query: `CREATE TABLE ${db}.kept (id UInt64, name String) ENGINE = MergeTree ORDER BY id` });
    const file = writeObjectPipeFile(env, {
      name: "kept",
      database: db,
      table: "kept",
      managedTable: false,
      source: { ...store.source("kept/*.json"), format: "JSONEachRow", continuous: true },
      secrets: store.secrets,
    });
    const { pipe } = loadRunFile(file);
    const user: PipeUser = await provisionPipe(ch, pipe);
    const run = async (what: string, rows: number): Promise<void> => {
      const consumer = startConsume(pipe, user, store.secrets);
      try {
        await waitFor(what, async () => (await count(ch, `SELECT count() FROM ${db}.kept`)) >= rows, 60_000, consumer);
        expect(await stopConsumer(consumer)).toBe(0);
      } finally {
        await stopConsumer(consumer, "SIGKILL");
      }
    };
    await store.put("kept/2024-01.json", idLines(100, 10));
    await store.put("kept/2024-02.json", idLines(200, 10));
    await run("the first 2 files", 20);
    const files = await queryRows<{ path: string; status: string; size: string }>(ch, `SELECT path, status, toString(size) AS size FROM ${db}.kept_clickpipes_archive WHERE pipe = 'test/kept' ORDER BY path`);
    expect(files.map((f) => [f.path, f.status, Number(f.size)])).toEqual([
      ["kept/2024-01.json", "done", idLines(100, 10).length],
      ["kept/2024-02.json", "done", idLines(200, 10).length],
    ]);
    // As if 7 days had passed: the TTL removed the rows. The resume point in clickpipes_state stays.
    await ch.command({ query: `TRUNCATE TABLE ${db}.kept_clickpipes_archive` });
    await store.put("kept/2024-00.json", idLines(900, 10));
    await store.put("kept/2024-03.json", idLines(300, 10));
    await run("the new file", 30);
    expect(await count(ch, `SELECT count() FROM ${db}.kept`)).toBe(30);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.kept`)).toBe(30);
    expect(await count(ch, `SELECT countIf(id >= 900) FROM ${db}.kept`)).toBe(0);
    expect(await count(ch, `SELECT count() FROM ${db}.kept_clickpipes_archive WHERE path = 'kept/2024-03.json' AND status = 'done'`)).toBe(1);
  }, 180_000);
});
