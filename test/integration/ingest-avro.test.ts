import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import avro from "avsc";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, createTopic, produce, queryRows, startConsumer, stopConsumer, uniqueName, waitFor, writePipeFile } from "./ingest-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("avro");

const schema = {
  type: "record",
  name: "Order",
  fields: [
    { name: "id", type: "long" },
    { name: "customer", type: { type: "record", name: "Customer", fields: [{ name: "name", type: "string" }] } },
    { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 10, scale: 2 } },
    { name: "ts", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "note", type: ["null", "string"], default: null },
    { name: "tags", type: { type: "array", items: "string" } },
    { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "PAID"] } },
  ],
};
const SCHEMA_ID = 42;
const type = avro.Type.forSchema(schema as avro.Schema);

/** A Confluent-compatible registry reduced to the one call the consumer makes (the stack has none). */
let registry: Server;
let registryUrl = "";
let lookups = 0;

function confluent(value: object): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(SCHEMA_ID, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

function decimal(cents: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(cents);
  return b;
}

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  registry = createServer((req, res) => {
    lookups++;
    if (req.url === `/schemas/ids/${SCHEMA_ID}`) {
      res.writeHead(200, { "content-type": "application/vnd.schemaregistry.v1+json" }).end(JSON.stringify({ schema: JSON.stringify(schema) }));
    } else {
      res.writeHead(404).end(JSON.stringify({ error_code: 40403, message: "Schema not found" }));
    }
  });
  await new Promise<void>((r) => registry.listen(0, "127.0.0.1", r));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
});

afterAll(async () => {
  registry.close();
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe("AvroConfluent", () => {
  it("decodes records by the schema id they carry, with logical types, and routes undecodable ones to the error table", async () => {
    const topic = uniqueName("avro");
    await createTopic(env, topic, 1);
    const ts = Date.UTC(2024, 4, 1, 10, 0, 0, 250);
    const good = Array.from({ length: 50 }, (_, i) =>
      confluent({ id: i, customer: { name: `c${i}` }, amount: decimal(i * 100 + 5), ts: ts + i, note: i % 2 === 0 ? null : "n", tags: ["a"], status: "PAID" }),
    );
    const unknownSchema = Buffer.from(good[0]!);
    unknownSchema.writeInt32BE(7, 1);
    await produce(env, topic, [...good.map((value) => ({ value })), { value: unknownSchema }, { value: Buffer.from("{}") }], 1);
    const file = writePipeFile(env, {
      name: "avro",
      database: db,
      table: "orders",
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic, format: "AvroConfluent", schemaRegistry: { url: registryUrl } },
      columns: [
        { name: "id", type: "Int64" },
        { name: "customer_name", type: "String" },
        { name: "amount", type: "Decimal(10, 2)" },
        { name: "ts", type: "DateTime64(3, 'UTC')" },
        { name: "note", type: "Nullable(String)" },
        { name: "tags", type: "Array(String)" },
        { name: "status", type: "Enum8('NEW' = 1, 'PAID' = 2)" },
      ],
      fieldMappings: [{ sourceField: "customer.name", destinationField: "customer_name" }],
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("50 rows and 2 errors", async () => (await count(ch, `SELECT count() c FROM ${db}.orders`)) === 50 && (await count(ch, `SELECT count() c FROM ${db}.orders_clickpipes_error`)) === 2, 90_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
    expect(await queryRows(ch, `SELECT * FROM ${db}.orders WHERE id = 3 SETTINGS output_format_json_quote_64bit_integers = 0`)).toEqual([
      { id: 3, customer_name: "c3", amount: 3.05, ts: "2024-05-01 10:00:00.253", note: "n", tags: ["a"], status: "PAID" },
    ]);
    const errors = await queryRows<{ error_type: string; message: string }>(ch, `SELECT error_type, message FROM ${db}.orders_clickpipes_error ORDER BY source_position`);
    expect(errors.map((e) => e.error_type)).toEqual(["DECODE_ERROR", "DECODE_ERROR"]);
    expect(errors[0]?.message).toMatch(/schema id 7 is not in the registry/);
    expect(errors[1]?.message).toMatch(/magic byte/);
    expect(lookups).toBe(2);
  });
});
