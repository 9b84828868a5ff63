/**
 * examples/kafka-avro-registry.yaml against the stack, following docs/sources/kafka-formats.md
 * ("Trying it locally"): register the producer's schema, point brokers, registry and ClickHouse
 * at the stack, produce framed Avro records, `clickpipes run -f` the edited file. The only
 * other changes: a fresh topic and database per run, so reruns do not see each other's rows.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import avro from "avsc";
import { afterAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { repoRoot } from "../stack/env.js";
import { clickhouse, count, createTopic, produce, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { confluentAvro, registerSchema } from "./schema-registry-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("avro_example");

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

type Doc = { kind: string; metadata: { name: string }; stringData?: Record<string, string>; spec?: Record<string, unknown> };

const orderSchema = {
  type: "record",
  name: "Order",
  fields: [
    { name: "order_id", type: "string" },
    { name: "customer", type: "string" },
    { name: "total", type: { type: "bytes", logicalType: "decimal", precision: 18, scale: 2 } },
    { name: "updated_at", type: { type: "long", logicalType: "timestamp-millis" } },
  ],
};

function cents(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

/** The example with the doc's step 2 applied. */
function editedExample(topic: string): string {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, "examples/kafka-avro-registry.yaml"), "utf8")).map((d) => d.toJSON() as Doc);
  for (const doc of docs) {
    if (doc.kind === "Secret" && doc.metadata.name === "clickhouse-admin") doc.stringData = { username: env.CLICKHOUSE_USER ?? "", password: env.CLICKHOUSE_PASSWORD ?? "" };
    if (doc.kind !== "ClickPipe" || doc.spec === undefined) continue;
    const spec = doc.spec as { source: { kafka: Record<string, unknown> & { schemaRegistry: Record<string, unknown> } }; destination: Record<string, unknown> & { clickhouse: Record<string, unknown> } };
    spec.source.kafka.brokers = env.KAFKA_BROKERS;
    spec.source.kafka.topics = topic;
    spec.source.kafka.schemaRegistry.url = env.SCHEMA_REGISTRY_URL;
    spec.destination.clickhouse.url = env.CLICKHOUSE_URL;
    spec.destination.database = db;
  }
  const file = join(mkdtempSync(join(tmpdir(), "avro-example-")), "kafka-avro-registry.yaml");
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

describe("examples/kafka-avro-registry.yaml", () => {
  it("runs against the stack's Kafka, registry and ClickHouse as the docs show", async () => {
    await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    const topic = uniqueName("orders");
    await createTopic(env, topic, 1);
    const id = await registerSchema(env, `${topic}-value`, orderSchema);
    const type = avro.Type.forSchema(orderSchema as avro.Schema);
    const at = Date.UTC(2024, 5, 1, 12, 0, 0, 500);
    await produce(
      env,
      topic,
      [
        { value: confluentAvro(id, type, { order_id: "o-1", customer: "ada", total: cents(1999), updated_at: at }) },
        { value: confluentAvro(id, type, { order_id: "o-2", customer: "bob", total: cents(-5), updated_at: at + 1 }) },
      ],
      1,
    );
    const consumer = startConsumer(editedExample(topic));
    try {
      await waitFor("2 orders", async () => (await count(ch, `SELECT count() FROM ${db}.orders`)) === 2, 120_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
    expect(await queryRows(ch, `SELECT order_id, customer, toString(total) total, toString(updated_at) updated_at FROM ${db}.orders ORDER BY order_id`)).toEqual([
      { order_id: "o-1", customer: "ada", total: "19.99", updated_at: "2024-06-01 12:00:00.500" },
      { order_id: "o-2", customer: "bob", total: "-0.05", updated_at: "2024-06-01 12:00:00.501" },
    ]);
  });
});
