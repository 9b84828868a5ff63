import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type PrivateComponent,
  clickhouse,
  count,
  createTopic,
  privateComponent,
  produce,
  startConsumer,
  stopConsumer,
  uniqueName,
  waitFor,
  writePipeFile,
} from "./ingest-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("faults");

const columns = [
  { name: "id", type: "UInt64" },
  { name: "payload", type: "String" },
  { name: "_partition", type: "Int32" },
  { name: "_offset", type: "Int64" },
];

function messages(from: number, n: number): { value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ id: from + i, payload: "x".repeat(100) }) }));
}

const positions = (database: string, table: string): string => `SELECT uniqExact(_partition, _offset) c FROM ${database}.${table}`;

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe("at-least-once under failures", () => {
  it("loses no record when the consumer is killed -9 mid-stream and restarted", async () => {
    const topic = uniqueName("kill");
    const total = 60_000;
    await createTopic(env, topic, 3);
    // Half before the kill, half after it, so the restarted consumer has work whatever the machine's speed.
    await produce(env, topic, messages(0, total / 2), 3);
    const file = writePipeFile(env, {
      name: "kill",
      database: db,
      table: "kill",
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
      columns,
      settings: { maxBatchRows: 1_000 },
    });
    const first = startConsumer(file);
    try {
      await waitFor("some batches in", async () => (await count(ch, `SELECT count() c FROM ${db}.kill`)) >= 3_000, 120_000, first);
      first.child.kill("SIGKILL");
      await first.exited;
      await produce(env, topic, messages(total / 2, total / 2), 3);
    } finally {
      await stopConsumer(first, "SIGKILL");
    }
    const before = await count(ch, `SELECT count() c FROM ${db}.kill`);
    expect(before).toBeLessThan(total);
    const second = startConsumer(file);
    try {
      await waitFor("every position in the table", async () => (await count(ch, positions(db, "kill"))) === total, 180_000, second);
      expect(await stopConsumer(second)).toBe(0);
    } finally {
      await stopConsumer(second, "SIGKILL");
    }
    expect(await count(ch, positions(db, "kill"))).toBe(total);
    expect(await count(ch, `SELECT uniqExact(id) c FROM ${db}.kill`)).toBe(total);
    expect(await count(ch, `SELECT count() c FROM ${db}.kill_clickpipes_error`)).toBe(0);
  });

  describe("with a private ClickHouse", () => {
    let privateCh: PrivateComponent;
    beforeAll(async () => {
      privateCh = await privateComponent("clickhouse");
    });
    afterAll(async () => {
      await privateCh.destroy();
    });

    it("keeps retrying through a 30 s ClickHouse outage and loses nothing", async () => {
      const chEnv = { ...env, ...privateCh.env };
      const own = clickhouse(chEnv);
      try {
        await own.command({ query: "CREATE DATABASE IF NOT EXISTS outage" });
        const topic = uniqueName("outage");
        await createTopic(env, topic, 3);
        await produce(env, topic, messages(0, 5_000), 3);
        const file = writePipeFile(chEnv, {
          name: "outage",
          database: "outage",
          table: "events",
          kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
          columns,
        });
        const consumer = startConsumer(file);
        try {
          await waitFor("the first records", async () => (await count(own, positions("outage", "events"))) === 5_000, 120_000, consumer);
          await privateCh.stop();
          await produce(env, topic, messages(5_000, 5_000), 3);
          await new Promise((r) => setTimeout(r, 30_000));
          expect(consumer.child.exitCode).toBeNull();
          await privateCh.start();
          await waitFor("the records produced during the outage", async () => (await count(own, positions("outage", "events"))) === 10_000, 120_000, consumer);
          expect(consumer.log()).toMatch(/retriable failure|retrying/);
          expect(await stopConsumer(consumer)).toBe(0);
        } finally {
          await stopConsumer(consumer, "SIGKILL");
        }
        expect(await count(own, `SELECT count() c FROM outage.events_clickpipes_error`)).toBe(0);
        expect(await count(own, `SELECT count() c FROM outage.clickpipes_log WHERE error_type = 'DESTINATION_ERROR'`)).toBeGreaterThan(0);
      } finally {
        await own.close();
      }
    });
  });

  describe("with a private Kafka broker", () => {
    let broker: PrivateComponent;
    beforeAll(async () => {
      broker = await privateComponent("kafka");
    });
    afterAll(async () => {
      await broker.destroy();
    });

    it("recovers from a broker restart and loses nothing", async () => {
      const kEnv = { ...env, KAFKA_BROKERS: broker.env.KAFKA_BROKERS as string };
      const topic = uniqueName("restart");
      await createTopic(kEnv, topic, 3);
      await produce(kEnv, topic, messages(0, 5_000), 3);
      const file = writePipeFile(env, {
        name: "restart",
        database: db,
        table: "restart",
        kafka: { brokers: kEnv.KAFKA_BROKERS, topics: topic },
        columns,
      });
      const consumer = startConsumer(file, { LOG_LEVEL: process.env.INGEST_LOG_LEVEL ?? "info" });
      try {
        await waitFor("the first records", async () => (await count(ch, positions(db, "restart"))) === 5_000, 120_000, consumer);
        await broker.stop();
        await new Promise((r) => setTimeout(r, 5_000));
        await broker.start();
        await produce(kEnv, topic, messages(5_000, 5_000), 3);
        await waitFor("the records produced after the restart", async () => (await count(ch, positions(db, "restart"))) === 10_000, 180_000, consumer);
        expect(consumer.child.exitCode).toBeNull();
        expect(await stopConsumer(consumer)).toBe(0);
      } finally {
        await stopConsumer(consumer, "SIGKILL");
      }
      expect(await count(ch, `SELECT count() c FROM ${db}.restart_clickpipes_error`)).toBe(0);
    });
  });
});
