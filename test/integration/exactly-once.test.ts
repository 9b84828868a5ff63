/**
 * Exactly-once for Kafka does not depend on ClickHouse's insert deduplication window: a
 * consumer dies after its batch's rows are in and before its state row is (made certain by
 * revoking its INSERT on clickpipes_state, so the state insert is retried until the kill),
 * other inserts land in the table meanwhile, and the restarted consumer still inserts no
 * record twice and loses none.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type ClickPipe, parseClickPipe } from "../../src/api/index.js";
import { createPipeTables, pipeTableSpecs } from "../../src/clickhouse/pipe-tables.js";
import { createUserSql, grantsSql, pipeUserName, setPasswordSql } from "../../src/clickhouse/users.js";
import { type PipeUser, clickhouse, count, createTopic, produce, startConsume, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("exactly_once");

const columns = [
  { name: "id", type: "UInt64" },
  { name: "payload", type: "String" },
  { name: "_partition", type: "Int32" },
  { name: "_offset", type: "Int64" },
];

function messages(from: number, n: number): { value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ id: from + i, payload: "p".repeat(50) }) }));
}

function exactlyOncePipe(name: string, table: string, topic: string, managed: boolean): ClickPipe {
  return parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name, namespace: "eo", uid: randomBytes(8).toString("hex") },
    spec: {
      source: { kafka: { brokers: env.KAFKA_BROKERS, topics: topic } },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: db,
        table,
        managedTable: managed,
        columns,
      },
      settings: { streamingMaxInsertWaitTime: "1s", exactlyOnce: true },
    },
  });
}

/** The operator's part: tables and the pipe's user with its exactly-once grants. */
async function provision(pipe: ClickPipe): Promise<PipeUser> {
  const table = pipe.spec.destination.table as string;
  const outcomes = await createPipeTables(ch, pipeTableSpecs(pipe.spec, [table]));
  expect(outcomes.every((o) => o.ok)).toBe(true);
  const user = pipeUserName(`${pipe.metadata.namespace ?? "default"}/${pipe.metadata.name}`);
  const password = randomBytes(12).toString("hex");
  for (const sql of [createUserSql(user, password, db), setPasswordSql(user, password), ...grantsSql({ kind: "destinationOnly" }, db, [table], user, { exactlyOnce: true })]) {
    await ch.command({ query: sql });
  }
  return { user, password };
}

const ours = (table: string): string => `SELECT count() c FROM ${db}.${table} WHERE _partition < 1000`;
const distinctOurs = (table: string): string => `SELECT uniqExact(_partition, _offset) c FROM ${db}.${table} WHERE _partition < 1000`;

/**
 * Rows of a first batch go in, its state row cannot (INSERT on clickpipes_state revoked), the
 * consumer is killed -9 while retrying it; `between` runs; the grant comes back and a new
 * consumer finishes. Returns the table's counts.
 */
async function crashAfterInsert(pipe: ClickPipe, topic: string, between: () => Promise<void>): Promise<{ rows: number; distinct: number; errors: number }> {
  const table = pipe.spec.destination.table as string;
  const user = await provision(pipe);
  await ch.command({ query: `REVOKE INSERT ON ${db}.clickpipes_state FROM \`${user.user}\`` });
  await produce(env, topic, messages(0, 3_000), 3);
  const first = startConsume(pipe, user);
  try {
    await waitFor("the first batch's rows", async () => (await count(ch, ours(table))) === 3_000, 90_000, first);
    await waitFor("the state insert failing", () => Promise.resolve(/insert_state/.test(first.log())), 60_000, first);
  } finally {
    await stopConsumer(first, "SIGKILL");
  }
  expect(await count(ch, `SELECT count() c FROM ${db}.clickpipes_state WHERE pipe = 'eo/${pipe.metadata.name}'`)).toBe(0);
  await between();
  await ch.command({ query: `GRANT INSERT ON ${db}.clickpipes_state TO \`${user.user}\`` });
  await produce(env, topic, messages(3_000, 2_000), 3);
  const second = startConsume(pipe, user);
  try {
    await waitFor("every record", async () => (await count(ch, distinctOurs(table))) === 5_000, 90_000, second);
    // Its first batch's state row is in once the stored positions cover all 5,000 records.
    await waitFor("the positions stored", async () => (await count(ch, `SELECT sum(toInt64(position) + 1) c FROM (SELECT argMax(position, last_insert_time) position FROM ${db}.clickpipes_state WHERE pipe = 'eo/${pipe.metadata.name}' GROUP BY source_position)`)) === 5_000, 60_000, second);
    expect(second.log()).toMatch(/exactly-once: stream resumed/);
    expect(await stopConsumer(second)).toBe(0);
  } finally {
    await stopConsumer(second, "SIGKILL");
  }
  return {
    rows: await count(ch, ours(table)),
    distinct: await count(ch, distinctOurs(table)),
    errors: await count(ch, `SELECT count() c FROM ${db}.${table}_clickpipes_error`),
  };
}

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe("exactly-once Kafka delivery", () => {
  it("inserts no record twice after a crash between insert and checkpoint, with 2,000 other inserts into the table meanwhile", async () => {
    const topic = uniqueName("eo_window");
    await createTopic(env, topic, 3);
    const pipe = exactlyOncePipe("window", "events", topic, true);
    const result = await crashAfterInsert(pipe, topic, async () => {
      // Far more inserts than any deduplication window keeps (the default is 100 for replicated tables, 0 here).
      for (let i = 0; i < 2_000; i++) {
        await ch.insert({ table: `${db}.events`, values: [{ id: i, payload: "other", _partition: 1000 + (i % 7), _offset: i }], format: "JSONEachRow" });
      }
      expect(await count(ch, `SELECT count() c FROM ${db}.events WHERE _partition >= 1000`)).toBe(2_000);
    });
    expect(result).toEqual({ rows: 5_000, distinct: 5_000, errors: 0 });
  });

  it("works the same on an existing table the pipe does not manage", async () => {
    const topic = uniqueName("eo_existing");
    await createTopic(env, topic, 3);
    await ch.command({ query: `CREATE TABLE ${db}.existing (id UInt64, payload String, _partition Int32, _offset Int64, note String DEFAULT 'x') ENGINE = MergeTree ORDER BY id` });
    const pipe = exactlyOncePipe("existing", "existing", topic, false);
    const result = await crashAfterInsert(pipe, topic, () => Promise.resolve());
    expect(result).toEqual({ rows: 5_000, distinct: 5_000, errors: 0 });
  });

  it("refuses, naming the columns, a table that cannot say which positions it holds", async () => {
    const topic = uniqueName("eo_nocols");
    await createTopic(env, topic, 1);
    await ch.command({ query: `CREATE TABLE ${db}.bare (id UInt64, payload String) ENGINE = MergeTree ORDER BY id` });
    const pipe = parseClickPipe({ ...exactlyOncePipe("bare", "bare", topic, false), spec: { ...exactlyOncePipe("bare", "bare", topic, false).spec, destination: { ...exactlyOncePipe("bare", "bare", topic, false).spec.destination, columns: columns.slice(0, 2) } } });
    const consumer = startConsume(pipe, await provision(pipe));
    expect(await consumer.exited).not.toBe(0);
    expect(consumer.log()).toMatch(/exactlyOnce needs the columns _partition, _offset/);
  });
});
