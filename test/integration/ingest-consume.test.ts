import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type Consumer,
  clickhouse,
  count,
  createTopic,
  kafkaPipe,
  produce,
  provisionPipe,
  queryRows,
  startConsume,
  startConsumer,
  stopConsumer,
  uniqueName,
  waitFor,
  writePipeFile,
} from "./ingest-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("consume");

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

function httpPortOf(consumer: Consumer): number {
  const line = consumer.log().split("\n").find((l) => l.includes("serving /healthz"));
  return (JSON.parse(line ?? "{}") as { port?: number }).port ?? 0;
}

describe("clickpipes consume and the consumer's endpoints", () => {
  it("runs as the pipe's own user with only the destinationOnly grants, on tables the operator created, and serves health and metrics", async () => {
    const topic = uniqueName("consume");
    await createTopic(env, topic, 2);
    await produce(env, topic, Array.from({ length: 300 }, (_, i) => ({ value: i === 5 ? "oops" : JSON.stringify({ id: i }) })), 2);
    const pipe = kafkaPipe(env, { name: "consumed", namespace: "team-a", database: db, table: "consumed", topic, columns: [{ name: "id", type: "UInt32" }] });
    const user = await provisionPipe(ch, pipe);
    const consumer = startConsume(pipe, user);
    const log = (): string => consumer.log();
    try {
      await waitFor("299 rows", async () => (await count(ch, `SELECT count() c FROM ${db}.consumed`)) === 299, 90_000, consumer);
      const port = httpPortOf(consumer);
      expect(port).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      // The rows are queryable before their batch is committed and counted; wait for the count.
      let metrics = "";
      await waitFor("the batch in the metrics", async () => {
        metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /clickpipes_rows_total\{pipe="team-a\/consumed"\} 299/.test(metrics);
      }, 30_000, consumer);
      expect(metrics).toMatch(/clickpipes_rows_total\{pipe="team-a\/consumed"\} 299/);
      expect(metrics).toMatch(/clickpipes_record_errors_total\{pipe="team-a\/consumed",error_type="DECODE_ERROR"\} 1/);
      expect(metrics).toMatch(/clickpipes_insert_duration_seconds_count\{pipe="team-a\/consumed"\} [1-9]/);
      expect(metrics).toMatch(/clickpipes_consumer_lag\{pipe="team-a\/consumed",topic="[^"]+",partition="[01]"\} 0/);
      for (const line of log().trim().split("\n")) expect(JSON.parse(line)).toMatchObject({ pipe: "team-a/consumed" });
      expect(log()).not.toContain(user.password);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
  });

  it("starts a new group at a timestamp (from_timestamp) or at the end (from_latest), across several topics", async () => {
    const [a, b] = [uniqueName("ts-a"), uniqueName("ts-b")];
    await createTopic(env, a, 1);
    await createTopic(env, b, 1);
    await produce(env, a, [{ value: JSON.stringify({ id: 1 }) }], 1);
    await new Promise((r) => setTimeout(r, 1_500));
    const from = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1_500));
    await produce(env, a, [{ value: JSON.stringify({ id: 2 }) }], 1);
    await produce(env, b, [{ value: JSON.stringify({ id: 3 }) }], 1);
    const byTime = startConsumer(
      writePipeFile(env, {
        name: "from-ts",
        database: db,
        table: "from_ts",
        kafka: { brokers: env.KAFKA_BROKERS, topics: `${a},${b}`, offset: { strategy: "from_timestamp", timestamp: from } },
        columns: [{ name: "id", type: "UInt32" }, { name: "_topic", type: "String" }],
      }),
    );
    try {
      await waitFor("the two newer records", async () => (await count(ch, `SELECT count() c FROM ${db}.from_ts`)) === 2, 90_000, byTime);
    } finally {
      await stopConsumer(byTime);
    }
    expect(await queryRows(ch, `SELECT id, _topic FROM ${db}.from_ts ORDER BY id`)).toEqual([
      { id: 2, _topic: a },
      { id: 3, _topic: b },
    ]);

    const latest = startConsumer(
      writePipeFile(env, {
        name: "from-latest",
        database: db,
        table: "from_latest",
        kafka: { brokers: env.KAFKA_BROKERS, topics: a, offset: { strategy: "from_latest" } },
        columns: [{ name: "id", type: "UInt32" }],
      }),
    );
    try {
      await waitFor("the consumer to join", () => Promise.resolve(latest.log().includes('"msg":"consuming"')), 60_000, latest);
      // kafkajs resolves "latest" when partitions are assigned; give the join a moment.
      await new Promise((r) => setTimeout(r, 5_000));
      await produce(env, a, [{ value: JSON.stringify({ id: 4 }) }], 1);
      await waitFor("the new record", async () => (await count(ch, `SELECT count() c FROM ${db}.from_latest`)) === 1, 60_000, latest);
    } finally {
      await stopConsumer(latest);
    }
    expect(await queryRows(ch, `SELECT id FROM ${db}.from_latest`)).toEqual([{ id: 4 }]);
  });
});
