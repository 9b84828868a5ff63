import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { count, clickhouse, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { createStream, entry, kinesisClient, putRecords, shardsReadIn, writeKinesisPipeFile } from "./kinesis-helpers.js";

const env = inject("stackEnv");
const enabled = env.KINESIS_ENDPOINT !== undefined;
const ch = clickhouse(env);
const db = uniqueName("kinesis_r");
const client = enabled ? kinesisClient(env) : undefined;
const COLUMNS = [{ name: "id", type: "UInt64" }];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (enabled) await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  if (enabled) await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
  client?.destroy();
});

function ids(from: number, to: number): ReturnType<typeof entry>[] {
  return Array.from({ length: to - from }, (_, i) => entry(`k${from + i}`, JSON.stringify({ id: from + i })));
}

describe.skipIf(!enabled)("Kinesis shards, replicas and iterator types (kinesalite)", () => {
  it("two replicas with explicit indices read every shard, each shard by exactly one", async () => {
    const stream = uniqueName("replicas");
    await createStream(client!, stream, 4);
    await putRecords(client!, stream, ids(0, 8_000));
    const file = writeKinesisPipeFile(env, { name: "replicas", database: db, table: "replicas", kinesis: { streamName: stream }, columns: COLUMNS });
    const a = startConsumer(file, { CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: "0" });
    const b = startConsumer(file, { CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: "1" });
    try {
      await waitFor("8,000 rows from the two replicas", async () => (await count(ch, `SELECT count() FROM ${db}.replicas`)) >= 8_000, 120_000, a);
      await sleep(2_000);
      expect(await stopConsumer(a)).toBe(0);
      expect(await stopConsumer(b)).toBe(0);
    } finally {
      await stopConsumer(a, "SIGKILL");
      await stopConsumer(b, "SIGKILL");
    }
    const readA = shardsReadIn(a.log());
    const readB = shardsReadIn(b.log());
    expect(readA).toEqual(["shardId-000000000000", "shardId-000000000002"]);
    expect(readB).toEqual(["shardId-000000000001", "shardId-000000000003"]);
    expect(await count(ch, `SELECT count() FROM ${db}.replicas`)).toBe(8_000);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.replicas`)).toBe(8_000);
  });

  it("LATEST reads only what arrives after the consumer started", async () => {
    const stream = uniqueName("latest");
    await createStream(client!, stream, 2);
    await putRecords(client!, stream, ids(0, 1_000));
    const file = writeKinesisPipeFile(env, { name: "latest", database: db, table: "latest", kinesis: { streamName: stream, iteratorType: "LATEST" }, columns: COLUMNS });
    const consumer = startConsumer(file);
    try {
      await waitFor("both shards opened at LATEST", () => Promise.resolve(shardsReadIn(consumer.log()).length === 2), 60_000, consumer);
      // The readers take their LATEST iterators right after logging; give them a moment.
      await sleep(2_000);
      await putRecords(client!, stream, ids(1_000, 2_000));
      await waitFor("the 1,000 new records", async () => (await count(ch, `SELECT count() FROM ${db}.latest`)) >= 1_000, 60_000, consumer);
      await sleep(2_000);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    const r = await queryRows<{ n: string; lo: string; hi: string }>(ch, `SELECT count() n, min(id) lo, max(id) hi FROM ${db}.latest`);
    expect(r[0]).toEqual({ n: "1000", lo: "1000", hi: "1999" });
  });

  it("AT_TIMESTAMP starts at the first record that arrived at or after the time", async () => {
    const stream = uniqueName("attime");
    await createStream(client!, stream, 2);
    await putRecords(client!, stream, ids(0, 1_000));
    await sleep(1_500);
    const at = new Date().toISOString();
    await sleep(1_500);
    await putRecords(client!, stream, ids(1_000, 2_000));
    const file = writeKinesisPipeFile(env, {
      name: "attime",
      database: db,
      table: "attime",
      kinesis: { streamName: stream, iteratorType: "AT_TIMESTAMP", timestamp: at },
      columns: COLUMNS,
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("the 1,000 records after the time", async () => (await count(ch, `SELECT count() FROM ${db}.attime`)) >= 1_000, 60_000, consumer);
      await sleep(2_000);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    const r = await queryRows<{ n: string; lo: string; hi: string }>(ch, `SELECT count() n, min(id) lo, max(id) hi FROM ${db}.attime`);
    expect(r[0]).toEqual({ n: "1000", lo: "1000", hi: "1999" });
  });
});
