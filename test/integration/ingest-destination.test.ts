import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  clickhouse,
  count,
  createTopic,
  kafkaPipe,
  produce,
  provisionPipe,
  startConsume,
  startConsumer,
  stopConsumer,
  uniqueName,
  waitFor,
  writePipeFile,
} from "./ingest-helpers.js";

/**
 * A destination problem is a system error, never bad records: while the table is gone or the
 * grant is revoked, nothing is committed and nothing goes to the error table; once the cause
 * goes away every record arrives.
 */
const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("destination");
const columns = [
  { name: "id", type: "UInt64" },
  { name: "_partition", type: "Int32" },
  { name: "_offset", type: "Int64" },
];

function messages(from: number, n: number): { value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ id: from + i }) }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function destinationErrors(pipe: string): Promise<number> {
  return count(ch, `SELECT count() AS n FROM ${db}.clickpipes_log WHERE pipe = '${pipe}' AND level = 'error' AND error_type = 'DESTINATION_ERROR'`);
}

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe("destination problems are system errors", () => {
  it("keeps every record when the table is renamed away for 15 s and back", async () => {
    const topic = uniqueName("renamed");
    await createTopic(env, topic, 2);
    await produce(env, topic, messages(0, 500), 2);
    const consumer = startConsumer(writePipeFile(env, { name: "renamed", database: db, table: "renamed", kafka: { brokers: env.KAFKA_BROKERS, topics: topic }, columns }));
    try {
      await waitFor("the first records", async () => (await count(ch, `SELECT count() AS n FROM ${db}.renamed`)) === 500, 90_000, consumer);
      await ch.command({ query: `RENAME TABLE ${db}.renamed TO ${db}.renamed_away` });
      await produce(env, topic, messages(500, 500), 2);
      await waitFor("the refusal in clickpipes_log", async () => (await destinationErrors("test/renamed")) >= 1, 30_000, consumer);
      await sleep(15_000);
      await ch.command({ query: `RENAME TABLE ${db}.renamed_away TO ${db}.renamed` });
      await produce(env, topic, messages(1_000, 500), 2);
      await waitFor("every record", async () => (await count(ch, `SELECT uniqExact(id) AS n FROM ${db}.renamed`)) === 1_500, 90_000, consumer);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() AS n FROM ${db}.renamed_clickpipes_error`)).toBe(0);
    expect(await destinationErrors("test/renamed")).toBeGreaterThanOrEqual(1);
    const [row] = await (await ch.query({ query: `SELECT message FROM ${db}.clickpipes_log WHERE pipe = 'test/renamed' AND error_type = 'DESTINATION_ERROR' LIMIT 1`, format: "JSONEachRow" })).json<{ message: string }>();
    expect(row?.message).toMatch(/UNKNOWN_TABLE|does not exist/);
  });

  it("keeps every record when the pipe user's INSERT grant is revoked and granted again", async () => {
    const topic = uniqueName("revoked");
    await createTopic(env, topic, 2);
    await produce(env, topic, messages(0, 500), 2);
    const pipe = kafkaPipe(env, { name: "revoked", database: db, table: "revoked", topic, columns });
    const user = await provisionPipe(ch, pipe);
    const consumer = startConsume(pipe, user);
    try {
      await waitFor("the first records", async () => (await count(ch, `SELECT count() AS n FROM ${db}.revoked`)) === 500, 90_000, consumer);
      await ch.command({ query: `REVOKE INSERT ON ${db}.revoked FROM ${user.user}` });
      await produce(env, topic, messages(500, 500), 2);
      await waitFor("the refusal in clickpipes_log", async () => (await destinationErrors("test/revoked")) >= 1, 30_000, consumer);
      await sleep(5_000);
      expect(await count(ch, `SELECT count() AS n FROM ${db}.revoked`)).toBe(500);
      await ch.command({ query: `GRANT INSERT ON ${db}.revoked TO ${user.user}` });
      await waitFor("every record", async () => (await count(ch, `SELECT uniqExact(id) AS n FROM ${db}.revoked`)) === 1_000, 90_000, consumer);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() AS n FROM ${db}.revoked_clickpipes_error`)).toBe(0);
    const [row] = await (await ch.query({ query: `SELECT message FROM ${db}.clickpipes_log WHERE pipe = 'test/revoked' AND error_type = 'DESTINATION_ERROR' LIMIT 1`, format: "JSONEachRow" })).json<{ message: string }>();
    expect(row?.message).toMatch(/ACCESS_DENIED|Not enough privileges/);
  });
});
