/**
 * AvroConfluent with `formatOptions.avroDecoding: clickhouse`: the consumer sends the frames
 * as they are and the engine (the stack's front runs the real one) fetches each schema id from
 * the registry itself, with basic auth in `format_avro_schema_registry_url`. Rows exact through
 * a schema change mid-stream; frames naming unknown ids and undecodable frames become error
 * rows with their raw bytes while the good ones go in; a table with virtual columns keeps the
 * consumer's decode; an unreachable registry is a system error, never a record error; a
 * server that cannot reach the registry while the consumer can makes the consumer decode.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import avro from "avsc";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClickHouseClient } from "../../src/clickhouse/client.js";
import { destinationError } from "../../src/ingest/destination-errors.js";
import { DestinationError } from "../../src/ingest/errors.js";
import { ClickHouseSink } from "../../src/ingest/sink.js";
import { avroConfluentFrames } from "../../src/ingest/frame-passthrough.js";
import {
  type PrivateComponent,
  clickhouse,
  count,
  createTopic,
  privateComponent,
  produce,
  queryRows,
  startConsumer,
  stopConsumer,
  uniqueName,
  waitFor,
  writePipeFile,
} from "./ingest-helpers.js";
import { confluentAvro, consumeUntil, registerSchema, registryLogMark, registryLookups, registrySecret } from "./schema-registry-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("registry_ch");
let registry: PrivateComponent | undefined;

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await registry?.destroy();
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

type Env = typeof env;

function pipe(name: string, topic: string, registryEnv: Env, columns: readonly { name: string; type: string }[]): string {
  return writePipeFile(env, {
    name: name.replace(/_/g, "-"),
    database: db,
    table: name,
    kafka: {
      brokers: env.KAFKA_BROKERS,
      topics: topic,
      format: "AvroConfluent",
      formatOptions: { avroDecoding: "clickhouse" },
      schemaRegistry: { url: registryEnv.SCHEMA_REGISTRY_URL, credentialsSecretRef: { name: "registry" } },
    },
    columns,
    secrets: { registry: registrySecret(registryEnv) },
  });
}

/** A record schema new to the registry and to the engine's schema cache (its namespace is the topic). */
function reading(topic: string, extra: readonly object[] = []): object {
  return { type: "record", name: "Reading", namespace: topic, fields: [{ name: "id", type: "int" }, { name: "value", type: "double" }, ...extra] };
}
/** Two versions of the topic's schema (v2 adds `unit` with a default), registered in order. */
async function twoVersions(registryEnv: Env, topic: string): Promise<{ id1: number; id2: number; t1: avro.Type; t2: avro.Type }> {
  const v1 = reading(topic);
  const v2 = reading(topic, [{ name: "unit", type: "string", default: "" }]);
  const id1 = await registerSchema(registryEnv, `${topic}-value`, v1);
  const id2 = await registerSchema(registryEnv, `${topic}-value`, v2);
  return { id1, id2, t1: avro.Type.forSchema(v1 as avro.Schema), t2: avro.Type.forSchema(v2 as avro.Schema) };
}
const columns = [
  { name: "id", type: "Int32" },
  { name: "value", type: "Float64" },
  { name: "unit", type: "String" },
];

describe("AvroConfluent decoded by ClickHouse", () => {
  it("inserts 300 records exactly through a schema change mid-stream, the engine asking the registry itself", async () => {
    const topic = uniqueName("avro_ch_evolve");
    await createTopic(env, topic, 2);
    const { id1, id2, t1, t2 } = await twoVersions(env, topic);
    const mark = registryLogMark();
    const messages = Array.from({ length: 300 }, (_, i) => ({
      value: i < 150 ? confluentAvro(id1, t1, { id: i, value: i / 4 }) : confluentAvro(id2, t2, { id: i, value: i / 4, unit: `u${i % 3}` }),
    }));
    await produce(env, topic, messages, 2);
    await consumeUntil(pipe("evolve", topic, env, columns), "300 rows", async () => (await count(ch, `SELECT count() FROM ${db}.evolve`)) === 300);
    const got = await queryRows<{ id: number; value: number; unit: string }>(ch, `SELECT id, value, unit FROM ${db}.evolve ORDER BY id`);
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => ({ id: i, value: i / 4, unit: i < 150 ? "" : `u${i % 3}` })));
    expect(await count(ch, `SELECT count() FROM ${db}.evolve_clickpipes_error`)).toBe(0);
    // Each id asked by the consumer (to know it exists) and by the engine (to decode): ClickHouse decoded the frames.
    expect(registryLookups(id1, mark)).toBeGreaterThanOrEqual(2);
    expect(registryLookups(id2, mark)).toBeGreaterThanOrEqual(2);
  });

  it("keeps the good frames and makes unknown-id and undecodable frames error rows with their exact bytes", async () => {
    const topic = uniqueName("avro_ch_bad");
    await createTopic(env, topic, 1);
    const schema = reading(topic);
    const id = await registerSchema(env, `${topic}-value`, schema);
    const type = avro.Type.forSchema(schema as avro.Schema);
    const unknownId = 2_000_000_000 + Math.floor(Math.random() * 100_000_000);
    const good = Array.from({ length: 200 }, (_, i) => ({ value: confluentAvro(id, type, { id: i, value: i }) }));
    const unknown = Array.from({ length: 40 }, (_, i) => ({ value: confluentAvro(unknownId, type, { id: 1000 + i, value: i }) }));
    // A known id whose body stops short: only decoding can tell, so ClickHouse refuses the batch and the consumer finds it.
    const truncated = { value: confluentAvro(id, type, { id: 5000, value: 1.5 }).subarray(0, 8) };
    const messages = [...good.slice(0, 100), ...unknown.slice(0, 20), truncated, ...good.slice(100), ...unknown.slice(20)];
    await produce(env, topic, messages, 1);
    await consumeUntil(
      pipe("bad_frames", topic, env, columns),
      "200 rows and 41 error rows",
      async () => (await count(ch, `SELECT count() FROM ${db}.bad_frames`)) === 200 && (await count(ch, `SELECT count() FROM ${db}.bad_frames_clickpipes_error`)) === 41,
    );
    expect(await queryRows<{ id: number }>(ch, `SELECT id FROM ${db}.bad_frames ORDER BY id`)).toEqual(Array.from({ length: 200 }, (_, i) => ({ id: i })));
    const errors = await queryRows<{ error_type: string; h: string }>(ch, `SELECT error_type, hex(raw_message) h FROM ${db}.bad_frames_clickpipes_error ORDER BY error_type, h`);
    const hex = (b: Buffer): string => b.toString("hex").toUpperCase();
    expect(errors).toEqual([
      { error_type: "DATA_PARSING_ERROR", h: hex(truncated.value) },
      ...unknown.map((m) => ({ error_type: "SOURCE_SCHEMA_ERROR", h: hex(m.value) })).sort((a, b) => (a.h < b.h ? -1 : 1)),
    ]);
  });

  it("decodes in the consumer when the table has virtual columns (a frame carries no offset)", async () => {
    const topic = uniqueName("avro_ch_virtual");
    await createTopic(env, topic, 1);
    const schema = reading(topic);
    const id = await registerSchema(env, `${topic}-value`, schema);
    const type = avro.Type.forSchema(schema as avro.Schema);
    await produce(env, topic, Array.from({ length: 50 }, (_, i) => ({ value: confluentAvro(id, type, { id: i, value: i }) })), 1);
    await consumeUntil(
      pipe("with_offset", topic, env, [...columns, { name: "_offset", type: "UInt64" }]),
      "50 rows",
      async () => (await count(ch, `SELECT count() FROM ${db}.with_offset`)) === 50,
    );
    expect(await count(ch, `SELECT countIf(_offset = id) FROM ${db}.with_offset`)).toBe(50);
  });

  it("waits out a stopped registry: ClickHouse's NETWORK_ERROR is a system error, no error rows, nothing lost", async () => {
    process.env.SCHEMA_REGISTRY_STORAGE = "file";
    registry = await privateComponent("schema-registry");
    const renv = { ...env, ...registry.env };
    const topic = uniqueName("avro_ch_outage");
    await createTopic(env, topic, 1);
    const { id1, id2, t1, t2 } = await twoVersions(renv, topic);
    const file = pipe("outage", topic, renv, columns);
    const consumer = startConsumer(file);
    try {
      await produce(env, topic, Array.from({ length: 100 }, (_, i) => ({ value: confluentAvro(id1, t1, { id: i, value: i }) })), 1);
      await waitFor("the first 100 rows", async () => (await count(ch, `SELECT count() FROM ${db}.outage`)) === 100, 120_000, consumer);
      await registry.stop();

      // The engine, asked to decode a frame whose schema it has not fetched, cannot reach the registry: retried, not a data refusal.
      const client = createClickHouseClient({ url: env.CLICKHOUSE_URL ?? "", username: env.CLICKHOUSE_USER ?? "default", password: env.CLICKHOUSE_PASSWORD ?? "", database: db });
      const frames = avroConfluentFrames({ url: renv.SCHEMA_REGISTRY_URL ?? "", ...registrySecret(renv) }, () => true);
      const refused = await new ClickHouseSink(client, db, destinationError)
        .insertBody("outage", [confluentAvro(id2, t2, { id: -1, value: 0, unit: "x" })], true, frames)
        .then(() => undefined, (err: unknown) => err);
      await client.close();
      expect(refused).toBeInstanceOf(DestinationError);
      expect(refused).toMatchObject({ retriable: true, dataError: false });
      expect(String((refused as Error).message)).not.toContain(registrySecret(renv).password);

      await produce(env, topic, Array.from({ length: 300 }, (_, i) => ({ value: i % 2 === 0 ? confluentAvro(id2, t2, { id: 100 + i, value: i, unit: "kW" }) : confluentAvro(id1, t1, { id: 100 + i, value: i }) })), 1);
      await new Promise((r) => setTimeout(r, 10_000));
      expect(await count(ch, `SELECT count() FROM ${db}.outage_clickpipes_error`)).toBe(0);
      await registry.start();
      await waitFor("all 400 records", async () => (await count(ch, `SELECT uniqExact(id) FROM ${db}.outage`)) === 400, 180_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
    expect(await count(ch, `SELECT count() FROM ${db}.outage_clickpipes_error`)).toBe(0);
    expect(await count(ch, `SELECT countIf(unit = 'kW') FROM (SELECT DISTINCT id, unit FROM ${db}.outage)`)).toBe(150);
  });

  it("lets the consumer decode while the server cannot reach the registry the consumer reaches", async () => {
    // A proxy in front of the stack's registry that answers ClickHouse's requests (its user agent) with 503 and forwards the consumer's: the server's network path is the one broken.
    const target = new URL(env.SCHEMA_REGISTRY_URL ?? "");
    const refusedAgents: string[] = [];
    const proxy: Server = createServer((req: IncomingMessage, res) => {
      const agent = req.headers["user-agent"] ?? "";
      if (/clickhouse/i.test(agent) || !/node|axios|undici/i.test(agent)) {
        refusedAgents.push(agent);
        res.writeHead(503).end("unreachable from the server");
        return;
      }
      const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as AddressInfo).port;
    const proxied = { ...env, SCHEMA_REGISTRY_URL: `http://127.0.0.1:${port}${target.pathname}` };
    const topic = uniqueName("avro_ch_unreachable");
    await createTopic(env, topic, 1);
    const { id1, id2, t1, t2 } = await twoVersions(env, topic);
    const consumer = startConsumer(pipe("unreachable", topic, proxied, columns));
    try {
      await produce(env, topic, Array.from({ length: 200 }, (_, i) => ({ value: i % 2 === 0 ? confluentAvro(id1, t1, { id: i, value: i }) : confluentAvro(id2, t2, { id: i, value: i, unit: "kW" }) })), 1);
      await waitFor("the 200 rows, decoded by the consumer", async () => (await count(ch, `SELECT uniqExact(id) FROM ${db}.unreachable`)) === 200, 120_000, consumer);
    } finally {
      await stopConsumer(consumer);
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    expect(refusedAgents.length).toBeGreaterThan(0);
    expect(await count(ch, `SELECT count() FROM ${db}.unreachable_clickpipes_error`)).toBe(0);
    expect(await count(ch, `SELECT countIf(unit = 'kW') FROM ${db}.unreachable`)).toBe(100);
    expect(consumer.log()).toContain("ClickHouse cannot use the schema registry");
  });
});
