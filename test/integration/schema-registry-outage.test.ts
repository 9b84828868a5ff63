/**
 * The registry unreachable for 30 s while records name a schema the consumer has not seen:
 * a system error (logged, retried), never a record error, and nothing lost. Runs its own
 * registry (the stack's component on private ports) so stopping it leaves the others alone,
 * with its schemas in a file (SCHEMA_REGISTRY_STORAGE=file) so that, like a production
 * registry, it still has them after the restart.
 */
import avro from "avsc";
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
import { confluentAvro, registerSchema, registrySecret } from "./schema-registry-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("registry_outage");
let registry: PrivateComponent;

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  process.env.SCHEMA_REGISTRY_STORAGE = "file";
  registry = await privateComponent("schema-registry");
}, 180_000);

afterAll(async () => {
  await registry?.destroy();
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

const v1 = { type: "record", name: "Reading", fields: [{ name: "id", type: "int" }, { name: "value", type: "double" }] };
const v2 = { type: "record", name: "Reading", fields: [{ name: "id", type: "int" }, { name: "value", type: "double" }, { name: "unit", type: "string", default: "" }] };

async function registerBoth(topic: string): Promise<[number, number]> {
  const renv = { ...env, ...registry.env };
  return [await registerSchema(renv, `${topic}-value`, v1), await registerSchema(renv, `${topic}-value`, v2)];
}


describe("schema registry outage", () => {
  it("waits out a registry stopped for 30 s: no record errors, every record in the table", async () => {
    const topic = uniqueName("avro_outage");
    await createTopic(env, topic, 1);
    const [id1, id2] = await registerBoth(topic);
    const file = writePipeFile(env, {
      name: "outage",
      database: db,
      table: "readings",
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic, format: "AvroConfluent", schemaRegistry: { url: registry.env.SCHEMA_REGISTRY_URL, credentialsSecretRef: { name: "registry" } } },
      columns: [
        { name: "id", type: "Int32" },
        { name: "value", type: "Float64" },
        { name: "unit", type: "String" },
      ],
      secrets: { registry: registrySecret(registry.env) },
    });
    const t1 = avro.Type.forSchema(v1 as avro.Schema);
    const t2 = avro.Type.forSchema(v2 as avro.Schema);
    const consumer = startConsumer(file);
    try {
      await produce(env, topic, Array.from({ length: 100 }, (_, i) => ({ value: confluentAvro(id1, t1, { id: i, value: i / 2 }) })), 1);
      await waitFor("the first 100 rows", async () => (await count(ch, `SELECT count() FROM ${db}.readings`)) === 100, 120_000, consumer);

      await registry.stop();
      // Records naming the v2 schema, which the consumer has never fetched, arrive while the registry is down.
      await produce(env, topic, Array.from({ length: 400 }, (_, i) => ({ value: i % 2 === 0 ? confluentAvro(id2, t2, { id: 100 + i, value: i, unit: "kW" }) : confluentAvro(id1, t1, { id: 100 + i, value: i }) })), 1);
      await new Promise((r) => setTimeout(r, 30_000));
      expect(await count(ch, `SELECT count() FROM ${db}.readings_clickpipes_error`)).toBe(0);
      expect(consumer.log()).toMatch(/schema registry unavailable, retrying/);

      await registry.start();
      await waitFor("all 500 records", async () => (await count(ch, `SELECT uniqExact(id) FROM ${db}.readings`)) === 500, 180_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
    expect(await count(ch, `SELECT count() FROM ${db}.readings_clickpipes_error`)).toBe(0);
    expect(await count(ch, `SELECT countIf(unit = 'kW') FROM (SELECT DISTINCT id, unit FROM ${db}.readings)`)).toBe(200);
  });
});
