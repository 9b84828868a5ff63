/**
 * AvroConfluent against the stack's real registry (Apicurio, Confluent API, basic auth):
 * every Avro type and logical type value by value in the engine, schemas fetched once per
 * id, evolution mid-stream, a schema pinned by subject and version, schema references to
 * other subjects, unknown ids as error rows holding each record's exact bytes.
 * The registry outage case is in schema-registry-outage.test.ts (it runs its own registry).
 */
import avro from "avsc";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, createTopic, produce, queryRows, startConsumer, stopConsumer, uniqueName, waitFor, writePipeFile } from "./ingest-helpers.js";
import { confluentAvro, consumeUntil, registerSchema, registryLogMark, registryLookups, registrySecret } from "./schema-registry-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("registry");

function registryPipe(name: string, topic: string, url: string, columns: readonly { name: string; type: string }[], extra: { fieldMappings?: { sourceField: string; destinationField: string }[] } = {}): string {
  return writePipeFile(env, {
    name: name.replace(/_/g, "-"),
    database: db,
    table: name,
    kafka: { brokers: env.KAFKA_BROKERS, topics: topic, format: "AvroConfluent", schemaRegistry: { url, credentialsSecretRef: { name: "registry" } } },
    columns,
    secrets: { registry: registrySecret(env) },
    ...extra,
  });
}

const rows = (table: string): Promise<number> => count(ch, `SELECT count() FROM ${db}.${table}`);
const errorRows = (table: string): Promise<number> => count(ch, `SELECT count() FROM ${db}.${table}_clickpipes_error`);

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

const Point = { type: "record", name: "Point", fields: [{ name: "x", type: "int" }, { name: "y", type: "string" }] };
const allTypes = {
  type: "record",
  name: "AllTypes",
  namespace: "test",
  fields: [
    { name: "id", type: "int" },
    { name: "flag", type: "boolean" },
    { name: "big", type: "long" },
    { name: "f32", type: "float" },
    { name: "f64", type: "double" },
    { name: "text", type: "string" },
    { name: "raw", type: "bytes" },
    { name: "code", type: { type: "fixed", name: "Code", size: 4 } },
    { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "PAID"] } },
    { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 10, scale: 2 } },
    { name: "uid", type: { type: "string", logicalType: "uuid" } },
    { name: "day", type: { type: "int", logicalType: "date" } },
    { name: "ts_ms", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "ts_us", type: { type: "long", logicalType: "timestamp-micros" } },
    { name: "point", type: Point },
    { name: "list", type: { type: "array", items: "int" } },
    { name: "counts", type: { type: "map", values: "long" } },
    { name: "note", type: ["null", "string"], default: null },
    { name: "maybe_point", type: ["null", "Point"], default: null },
    { name: "maybe_list", type: ["null", { type: "array", items: "string" }], default: null },
  ],
};
const allColumns = [
  { name: "id", type: "Int32" },
  { name: "flag", type: "Bool" },
  { name: "big", type: "Int64" },
  { name: "f32", type: "Float32" },
  { name: "f64", type: "Float64" },
  { name: "text", type: "String" },
  { name: "raw", type: "String" },
  { name: "code", type: "FixedString(4)" },
  { name: "status", type: "Enum8('NEW' = 1, 'PAID' = 2)" },
  { name: "amount", type: "Decimal(10, 2)" },
  { name: "uid", type: "UUID" },
  { name: "day", type: "Date" },
  { name: "ts_ms", type: "DateTime64(3, 'UTC')" },
  { name: "ts_us", type: "DateTime64(6, 'UTC')" },
  { name: "point", type: "Tuple(x Int32, y String)" },
  { name: "list", type: "Array(Int32)" },
  { name: "counts", type: "Map(String, Int64)" },
  { name: "note", type: "Nullable(String)" },
  { name: "maybe_point", type: "Tuple(x Int32, y String)" },
  { name: "maybe_list", type: "Array(String)" },
  { name: "point_y", type: "String" },
];

/** Two's complement big-endian bytes of an unscaled decimal. */
function decimalBytes(unscaled: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(unscaled);
  return b;
}

describe("AvroConfluent with the stack's schema registry", () => {
  it("maps every Avro type and logical type to its ClickHouse column, value by value, asking the registry once per id", async () => {
    const topic = uniqueName("avro_types");
    await createTopic(env, topic, 1);
    const id = await registerSchema(env, `${topic}-value`, allTypes);
    const type = avro.Type.forSchema(allTypes as avro.Schema);
    const full = {
      id: 1,
      flag: true,
      big: 4_000_000_000_000_007,
      f32: 1.5,
      f64: -2.25,
      text: "héllo, \"world\"",
      raw: Buffer.from("raw bytes"),
      code: Buffer.from("abcd"),
      status: "PAID",
      amount: decimalBytes(-1234),
      uid: "0f8fad5b-d9cb-469f-a165-70867728950e",
      day: 19_844, // 2024-05-01
      ts_ms: Date.UTC(2024, 4, 1, 10, 0, 0, 250),
      ts_us: Date.UTC(2024, 4, 1, 10, 0, 0, 250) * 1000 + 123,
      point: { x: 7, y: "seven" },
      list: [1, 2, 3],
      counts: { a: 1, b: 9_000_000_000 },
      note: "a note",
      maybe_point: { x: 8, y: "eight" },
      maybe_list: ["p", "q"],
    };
    const nulls = { ...full, id: 2, note: null, maybe_point: null, maybe_list: null, list: [], counts: {} };
    const records = [full, nulls, ...Array.from({ length: 98 }, (_, i) => ({ ...full, id: 3 + i }))];
    await produce(env, topic, records.map((r) => ({ value: confluentAvro(id, type, r) })), 1);
    const file = registryPipe("all_types", topic, env.SCHEMA_REGISTRY_URL ?? "", allColumns, { fieldMappings: [{ sourceField: "point.y", destinationField: "point_y" }] });
    const mark = registryLogMark();
    await consumeUntil(file, "100 rows", async () => (await rows("all_types")) === 100);

    const got = await queryRows<Record<string, unknown>>(ch, `SELECT * FROM ${db}.all_types WHERE id IN (1, 2) ORDER BY id SETTINGS output_format_json_quote_64bit_integers = 0, output_format_json_quote_decimals = 1`);
    expect(got[0]).toEqual({
      id: 1,
      flag: true,
      big: 4_000_000_000_000_007,
      f32: 1.5,
      f64: -2.25,
      text: "héllo, \"world\"",
      raw: "raw bytes",
      code: "abcd",
      status: "PAID",
      amount: "-12.34",
      uid: "0f8fad5b-d9cb-469f-a165-70867728950e",
      day: "2024-05-01",
      ts_ms: "2024-05-01 10:00:00.250",
      ts_us: "2024-05-01 10:00:00.250123",
      point: { x: 7, y: "seven" },
      list: [1, 2, 3],
      counts: { a: 1, b: 9_000_000_000 },
      note: "a note",
      maybe_point: { x: 8, y: "eight" },
      maybe_list: ["p", "q"],
      point_y: "seven",
    });
    // ClickPipes' rules for null unions of complex types: a zero-valued Tuple, an empty Array.
    expect(got[1]).toMatchObject({ id: 2, note: null, maybe_point: { x: 0, y: "" }, maybe_list: [], list: [], counts: {} });
    expect(await errorRows("all_types")).toBe(0);
    expect(registryLookups(id, mark)).toBe(1);
  });

  it("follows a schema change mid-stream without a restart: added field with default, removed field, widened type, incompatible type as a record error", async () => {
    const topic = uniqueName("avro_evolve");
    await createTopic(env, topic, 1);
    const subject = `${topic}-value`;
    const v1 = { type: "record", name: "User", fields: [{ name: "id", type: "int" }, { name: "name", type: "string" }, { name: "score", type: "int" }] };
    const v2 = { type: "record", name: "User", fields: [{ name: "id", type: "int" }, { name: "score", type: "long" }, { name: "email", type: "string", default: "" }] };
    const v3 = { type: "record", name: "User", fields: [{ name: "id", type: "int" }, { name: "score", type: { type: "record", name: "Score", fields: [{ name: "v", type: "int" }] } }] };
    const id1 = await registerSchema(env, subject, v1);
    const file = registryPipe("evolve", topic, env.SCHEMA_REGISTRY_URL ?? "", [
      { name: "id", type: "Int32" },
      { name: "name", type: "String" },
      { name: "score", type: "Int64" },
      { name: "email", type: "String" },
    ]);
    const consumer = startConsumer(file);
    try {
      const t1 = avro.Type.forSchema(v1 as avro.Schema);
      await produce(env, topic, [1, 2, 3].map((i) => ({ value: confluentAvro(id1, t1, { id: i, name: `n${i}`, score: i * 10 }) })), 1);
      await waitFor("the v1 rows", async () => (await rows("evolve")) === 3, 120_000, consumer);
      // The producer moves to v2 and v3 while the same consumer keeps running.
      const id2 = await registerSchema(env, subject, v2);
      const id3 = await registerSchema(env, `${topic}-other`, v3);
      const t2 = avro.Type.forSchema(v2 as avro.Schema);
      const t3 = avro.Type.forSchema(v3 as avro.Schema);
      await produce(
        env,
        topic,
        [
          { value: confluentAvro(id2, t2, { id: 4, score: 5_000_000_000, email: "d@x" }) },
          { value: confluentAvro(id3, t3, { id: 5, score: { v: 1 } }) },
          { value: confluentAvro(id2, t2, { id: 6, score: 60, email: "f@x" }) },
          { value: confluentAvro(id1, t1, { id: 7, name: "n7", score: 70 }) },
        ],
        1,
      );
      await waitFor("the v2 rows and the v3 error", async () => (await rows("evolve")) === 6 && (await errorRows("evolve")) === 1, 120_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
    expect(await queryRows(ch, `SELECT id, name, score, email FROM ${db}.evolve ORDER BY id SETTINGS output_format_json_quote_64bit_integers = 0`)).toEqual([
      { id: 1, name: "n1", score: 10, email: "" },
      { id: 2, name: "n2", score: 20, email: "" },
      { id: 3, name: "n3", score: 30, email: "" },
      { id: 4, name: "", score: 5_000_000_000, email: "d@x" },
      { id: 6, name: "", score: 60, email: "f@x" },
      { id: 7, name: "n7", score: 70, email: "" },
    ]);
    const errors = await queryRows<{ error_type: string; message: string; source_position: string }>(ch, `SELECT error_type, message, source_position FROM ${db}.evolve_clickpipes_error`);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/score/);
  });

  it("decodes bare Avro bodies with the schema the URL pins by subject and version, and framed ones by their own id", async () => {
    const topic = uniqueName("avro_pinned");
    await createTopic(env, topic, 1);
    const subject = `${topic}-value`;
    const v1 = { type: "record", name: "Event", fields: [{ name: "id", type: "int" }, { name: "kind", type: "string" }] };
    const v2 = { type: "record", name: "Event", fields: [{ name: "id", type: "int" }, { name: "kind", type: "string" }, { name: "weight", type: "double", default: 0 }] };
    await registerSchema(env, subject, v1);
    const id2 = await registerSchema(env, subject, v2);
    const t1 = avro.Type.forSchema(v1 as avro.Schema);
    const t2 = avro.Type.forSchema(v2 as avro.Schema);
    // Version 1 pinned: bare bodies (no magic byte, no id) are read with it; a framed v2 message still names its own schema.
    await produce(env, topic, [{ value: t1.toBuffer({ id: 11, kind: "click" }) }, { value: t1.toBuffer({ id: 12, kind: "view" }) }, { value: confluentAvro(id2, t2, { id: 13, kind: "buy", weight: 2.5 }) }], 1);
    const url = `${env.SCHEMA_REGISTRY_URL}/subjects/${subject}/versions/1`;
    const file = registryPipe("pinned", topic, url, [
      { name: "id", type: "Int32" },
      { name: "kind", type: "String" },
      { name: "weight", type: "Float64" },
    ]);
    await consumeUntil(file, "3 rows", async () => (await rows("pinned")) === 3);
    expect(await queryRows(ch, `SELECT id, kind, weight FROM ${db}.pinned ORDER BY id`)).toEqual([
      { id: 11, kind: "click", weight: 0 },
      { id: 12, kind: "view", weight: 0 },
      { id: 13, kind: "buy", weight: 2.5 },
    ]);
    expect(await errorRows("pinned")).toBe(0);
  });

  it("follows Avro schema references to named types registered under other subjects, transitively", async () => {
    const topic = uniqueName("avro_refs");
    await createTopic(env, topic, 1);
    // Customer (the topic's subject) names test.Address (another subject), which names test.Country (a third).
    const country = { type: "enum", name: "Country", namespace: "test", symbols: ["FR", "DE"] };
    const address = { type: "record", name: "Address", namespace: "test", fields: [{ name: "city", type: "string" }, { name: "country", type: "test.Country" }] };
    const customer = { type: "record", name: "Customer", namespace: "test", fields: [{ name: "id", type: "int" }, { name: "home", type: "test.Address" }, { name: "work", type: ["null", "test.Address"], default: null }] };
    await registerSchema(env, `${topic}-country`, country);
    await registerSchema(env, `${topic}-address`, address, "AVRO", [{ name: "test.Country", subject: `${topic}-country`, version: 1 }]);
    const addressRef = [{ name: "test.Address", subject: `${topic}-address`, version: 1 }];
    const id = await registerSchema(env, `${topic}-value`, customer, "AVRO", addressRef);
    // A second version of the subject names the same Address: the consumer fetches each referenced version once.
    const customer2 = { ...customer, fields: [...customer.fields, { name: "vip", type: "boolean", default: false }] };
    const id2 = await registerSchema(env, `${topic}-value`, customer2, "AVRO", addressRef);
    const writerType = (s: object): avro.Type => {
      const registry: Record<string, avro.Type> = {};
      for (const named of [country, address, s]) avro.Type.forSchema(named as avro.Schema, { registry });
      return registry["test.Customer"] as avro.Type;
    };
    await produce(
      env,
      topic,
      [
        { value: confluentAvro(id, writerType(customer), { id: 1, home: { city: "Paris", country: "FR" }, work: { city: "Berlin", country: "DE" } }) },
        { value: confluentAvro(id2, writerType(customer2), { id: 2, home: { city: "Lyon", country: "FR" }, work: null, vip: true }) },
      ],
      1,
    );
    const mark = registryLogMark();
    const file = registryPipe("refs", topic, env.SCHEMA_REGISTRY_URL ?? "", [
      { name: "id", type: "Int32" },
      { name: "home", type: "Tuple(city String, country Enum8('FR' = 1, 'DE' = 2))" },
      { name: "work", type: "Tuple(city String, country String)" },
      { name: "vip", type: "Bool" },
    ]);
    await consumeUntil(file, "2 rows", async () => (await rows("refs")) === 2);
    expect(await queryRows(ch, `SELECT id, home, work, vip FROM ${db}.refs ORDER BY id`)).toEqual([
      { id: 1, home: { city: "Paris", country: "FR" }, work: { city: "Berlin", country: "DE" }, vip: false },
      { id: 2, home: { city: "Lyon", country: "FR" }, work: { city: "", country: "" }, vip: true },
    ]);
    expect(await errorRows("refs")).toBe(0);
    expect(registryLookups(`subjects/${topic}-address/versions/1`, mark)).toBe(1);
    expect(registryLookups(`subjects/${topic}-country/versions/1`, mark)).toBe(1);

    // A schema pinned by subject and version follows its references too (bare bodies, no framing).
    const bare = `${topic}_bare`;
    await createTopic(env, bare, 1);
    await produce(env, bare, [{ value: writerType(customer).toBuffer({ id: 3, home: { city: "Nice", country: "FR" }, work: null }) }], 1);
    const pinned = registryPipe("refs_pinned", bare, `${env.SCHEMA_REGISTRY_URL}/subjects/${topic}-value/versions/1`, [
      { name: "id", type: "Int32" },
      { name: "home", type: "Tuple(city String, country String)" },
    ]);
    await consumeUntil(pinned, "the pinned row", async () => (await rows("refs_pinned")) === 1);
    expect(await queryRows(ch, `SELECT id, home FROM ${db}.refs_pinned`)).toEqual([{ id: 3, home: { city: "Nice", country: "FR" } }]);
  });

  it("turns 1,000 records naming unknown schema ids into 1,000 SOURCE_SCHEMA_ERROR rows with their exact raw bytes, and keeps the good ones", async () => {
    const topic = uniqueName("avro_unknown");
    await createTopic(env, topic, 2);
    const schema = { type: "record", name: "Tick", fields: [{ name: "id", type: "int" }, { name: "label", type: "string" }, { name: "blob", type: "bytes" }] };
    const id = await registerSchema(env, `${topic}-value`, schema);
    const type = avro.Type.forSchema(schema as avro.Schema);
    // Ids far beyond anything registered (fresh per run: the registry's access log outlives runs); 50 distinct ones, 20 records each.
    const base = 2_000_000_000 + Math.floor(Math.random() * 100_000_000);
    // Bytes that are not UTF-8 (lone continuation bytes, 0xFF, a broken sequence) beside the ones JSON escapes (NUL, newline, quote, backslash).
    const blob = (i: number): Buffer => Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x22, 0x5c, 0xc3, 0x28, 0x80, i & 0xff, 0x1f, 0x7f]);
    const unknown = Array.from({ length: 1000 }, (_, i) => ({ value: confluentAvro(base + (i % 50), type, { id: 10_000 + i, label: `unknown-${i}`, blob: blob(i) }) }));
    const good = Array.from({ length: 100 }, (_, i) => ({ value: confluentAvro(id, type, { id: i, label: `good-${i}`, blob: Buffer.from("ok") }) }));
    await produce(env, topic, [...unknown, ...good], 2);
    const mark = registryLogMark();
    const file = registryPipe("unknown_ids", topic, env.SCHEMA_REGISTRY_URL ?? "", [
      { name: "id", type: "Int32" },
      { name: "label", type: "String" },
    ]);
    await consumeUntil(file, "100 rows and 1,000 error rows", async () => (await rows("unknown_ids")) === 100 && (await errorRows("unknown_ids")) === 1000);
    const byType = await queryRows<{ error_type: string; n: string; with_raw: string }>(
      ch,
      `SELECT error_type, count() n, countIf(position(raw_message, 'unknown-') > 0) with_raw FROM ${db}.unknown_ids_clickpipes_error GROUP BY error_type`,
    );
    expect(byType).toEqual([{ error_type: "SOURCE_SCHEMA_ERROR", n: "1000", with_raw: "1000" }]);
    // raw_message holds each record's bytes exactly as produced, invalid UTF-8 included.
    const stored = await queryRows<{ h: string }>(ch, `SELECT hex(raw_message) h FROM ${db}.unknown_ids_clickpipes_error ORDER BY h`);
    expect(stored.map((r) => r.h)).toEqual(unknown.map((m) => m.value.toString("hex").toUpperCase()).sort());
    expect(await count(ch, `SELECT count() FROM ${db}.unknown_ids WHERE label LIKE 'good-%'`)).toBe(100);
    // Asked once per unknown id, not once per record.
    expect(registryLookups(base, mark)).toBe(1);
    // The good id: once by the consumer, and once more by the engine when it decodes the frames (avroDecoding: clickhouse, the default).
    expect(registryLookups(id, mark)).toBeGreaterThanOrEqual(1);
    expect(registryLookups(id, mark)).toBeLessThanOrEqual(2);
  });
});
