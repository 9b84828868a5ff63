/**
 * The Kafka record formats beyond JSON, end to end (Kafka → `clickpipes run` → the engine),
 * with exact row content: Protobuf in Confluent's wire format with the .proto from the
 * stack's registry and with the .proto given in the manifest (nested messages, repeated,
 * maps, oneof, enums, Timestamp and wrappers), plain Avro with the schema in the manifest,
 * CSV and TabSeparated by position and by header. Undecodable records are DATA_PARSING_ERROR rows.
 */
import avro from "avsc";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, createTopic, produce, queryRows, startConsumer, stopConsumer, uniqueName, waitFor, writePipeFile } from "./ingest-helpers.js";
import { confluentFrame, registerSchema, registrySecret } from "./schema-registry-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("formats");

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

interface Pipe {
  readonly table: string;
  readonly kafka: Record<string, unknown>;
  readonly columns: readonly { name: string; type: string }[];
  readonly fieldMappings?: { sourceField: string; destinationField: string }[];
  readonly secrets?: Record<string, Record<string, string>>;
}

/** Produce the values to a fresh topic, run a pipe until the rows and error rows are in, return the rows in id order. */
async function runPipe(p: Pipe, values: readonly Buffer[], expected: { rows: number; errors: number }): Promise<Record<string, unknown>[]> {
  const topic = uniqueName(p.table);
  await createTopic(env, topic, 1);
  await produce(env, topic, values.map((value) => ({ value })), 1);
  const file = writePipeFile(env, {
    name: p.table.replace(/_/g, "-"),
    database: db,
    table: p.table,
    kafka: { brokers: env.KAFKA_BROKERS, topics: topic, ...p.kafka },
    columns: p.columns,
    ...(p.fieldMappings === undefined ? {} : { fieldMappings: p.fieldMappings }),
    ...(p.secrets === undefined ? {} : { secrets: p.secrets }),
  });
  const consumer = startConsumer(file);
  try {
    await waitFor(
      `${expected.rows} rows and ${expected.errors} errors`,
      async () =>
        (await count(ch, `SELECT count() FROM ${db}.${p.table}`)) === expected.rows && (await count(ch, `SELECT count() FROM ${db}.${p.table}_clickpipes_error`)) === expected.errors,
      120_000,
      consumer,
    );
  } finally {
    await stopConsumer(consumer);
  }
  return queryRows(ch, `SELECT * FROM ${db}.${p.table} ORDER BY id SETTINGS output_format_json_quote_64bit_integers = 0`);
}

const errorTypes = (table: string): Promise<{ error_type: string }[]> => queryRows(ch, `SELECT error_type FROM ${db}.${table}_clickpipes_error`);

const PROTO = `
syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Address {
  string city = 1;
  string zip = 2;
}

message Order {
  enum Status { NEW = 0; PAID = 1; }
  message Line { string sku = 1; int32 qty = 2; }
  int64 id = 1;
  string customer = 2;
  Address address = 3;
  repeated string tags = 4;
  map<string, int32> quantities = 5;
  oneof payment { string card = 6; string voucher = 7; }
  google.protobuf.Timestamp created = 8;
  google.protobuf.StringValue note = 9;
  google.protobuf.Int64Value discount = 10;
  Status status = 11;
  repeated Line lines = 12;
  double total = 13;
  bool paid = 14;
  uint64 big = 15;
}
`;

const protoColumns = [
  { name: "id", type: "Int64" },
  { name: "customer", type: "String" },
  { name: "address", type: "Tuple(city String, zip String)" },
  { name: "city", type: "String" },
  { name: "tags", type: "Array(String)" },
  { name: "quantities", type: "Map(String, Int32)" },
  { name: "card", type: "Nullable(String)" },
  { name: "voucher", type: "Nullable(String)" },
  { name: "created", type: "DateTime64(9, 'UTC')" },
  { name: "note", type: "Nullable(String)" },
  { name: "discount", type: "Nullable(Int64)" },
  { name: "status", type: "Enum8('NEW' = 0, 'PAID' = 1)" },
  { name: "lines", type: "Array(Tuple(sku String, qty Int32))" },
  { name: "total", type: "Float64" },
  { name: "paid", type: "Bool" },
  { name: "big", type: "UInt64" },
];

/** The producer's side: protobufjs with Google's well-known types added to the parsed file. */
function producerType(): protobuf.Type {
  const { root } = protobuf.parse(PROTO, { keepCase: true });
  for (const file of ["google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto"]) root.addJSON(protobuf.common.get(file)?.nested ?? {});
  return root.resolveAll().lookupType("shop.Order");
}
const orderType = producerType();
const orders = [
  {
    id: 1,
    customer: "ada",
    address: { city: "Paris", zip: "75001" },
    tags: ["new", "vip"],
    quantities: { apple: 3, pear: 1 },
    card: "4242",
    created: { seconds: 1714557600, nanos: 123456789 },
    note: { value: "leave at door" },
    discount: { value: 5_000_000_000 },
    status: 1,
    lines: [{ sku: "A-1", qty: 2 }, { sku: "B-2", qty: 1 }],
    total: 12.5,
    paid: true,
    big: "18446744073709551615",
  },
  // Only defaults: proto3 zero values, unset wrappers are NULL, the unset oneof leaves both NULL.
  { id: 2 },
  { id: 3, customer: "bob", voucher: "SPRING", status: 0, created: { seconds: 0, nanos: 0 } },
];
const protoExpected = [
  {
    id: 1,
    customer: "ada",
    address: { city: "Paris", zip: "75001" },
    city: "Paris",
    tags: ["new", "vip"],
    quantities: { apple: 3, pear: 1 },
    card: "4242",
    voucher: null,
    created: "2024-05-01 10:00:00.123456789",
    note: "leave at door",
    discount: 5_000_000_000,
    status: "PAID",
    lines: [{ sku: "A-1", qty: 2 }, { sku: "B-2", qty: 1 }],
    total: 12.5,
    paid: true,
    big: 18446744073709552000, // JSON numbers are doubles; the exact value is checked as text below
  },
  { id: 2, customer: "", address: { city: "", zip: "" }, city: "", tags: [], quantities: {}, card: null, voucher: null, created: "1970-01-01 00:00:00.000000000", note: null, discount: null, status: "NEW", lines: [], total: 0, paid: false, big: 0 },
  { id: 3, customer: "bob", address: { city: "", zip: "" }, city: "", tags: [], quantities: {}, card: null, voucher: "SPRING", created: "1970-01-01 00:00:00.000000000", note: null, discount: null, status: "NEW", lines: [], total: 0, paid: false, big: 0 },
];

function encodeOrder(o: Record<string, unknown>): Buffer {
  return Buffer.from(orderType.encode(orderType.fromObject(o)).finish());
}

describe("Kafka record formats", () => {
  it("Protobuf in Confluent's wire format: the .proto from the registry by id, the message by its indexes", async () => {
    const id = await registerSchema(env, `${uniqueName("shop")}-value`, PROTO, "PROTOBUF");
    // Order is the second top-level message: indexes [1], written as zigzag varints: count 1 → 0x02, index 1 → 0x02.
    const indexes = Buffer.from([0x02, 0x02]);
    const values = [...orders.map((o) => confluentFrame(id, encodeOrder(o), indexes)), confluentFrame(id, Buffer.from([0xff, 0xff, 0xff]), indexes)];
    const rows = await runPipe(
      {
        table: "proto_registry",
        kafka: { format: "Protobuf", schemaRegistry: { url: env.SCHEMA_REGISTRY_URL, credentialsSecretRef: { name: "registry" } } },
        columns: protoColumns,
        fieldMappings: [{ sourceField: "address.city", destinationField: "city" }],
        secrets: { registry: registrySecret(env) },
      },
      values,
      { rows: 3, errors: 1 },
    );
    expect(rows).toEqual(protoExpected);
    expect(await queryRows(ch, `SELECT toString(big) big FROM ${db}.proto_registry WHERE id = 1`)).toEqual([{ big: "18446744073709551615" }]);
    expect(await errorTypes("proto_registry")).toEqual([{ error_type: "DATA_PARSING_ERROR" }]);
  });

  it("Protobuf from the registry whose .proto imports another registered one (a schema reference)", async () => {
    const prefix = uniqueName("refs");
    const money = 'syntax = "proto3";\npackage common;\nmessage Money { string currency = 1; int64 units = 2; }\n';
    const sale = 'syntax = "proto3";\npackage shop;\nimport "common/money.proto";\nmessage Sale { string id = 1; common.Money price = 2; }\n';
    await registerSchema(env, `${prefix}-money`, money, "PROTOBUF");
    const id = await registerSchema(env, `${prefix}-value`, sale, "PROTOBUF", [{ name: "common/money.proto", subject: `${prefix}-money`, version: 1 }]);
    const { root } = protobuf.parse(money, { keepCase: true });
    protobuf.parse(sale, root, { keepCase: true });
    const saleType = root.resolveAll().lookupType("shop.Sale");
    // The file's first message: the message indexes are the single byte 0.
    const values = [{ id: "s-1", price: { currency: "EUR", units: 12 } }, { id: "s-2", price: { currency: "USD", units: 7_000_000_000 } }].map((m) =>
      confluentFrame(id, Buffer.from(saleType.encode(saleType.fromObject(m)).finish()), Buffer.from([0])),
    );
    const rows = await runPipe(
      {
        table: "proto_refs",
        kafka: { format: "Protobuf", schemaRegistry: { url: env.SCHEMA_REGISTRY_URL, credentialsSecretRef: { name: "registry" } } },
        columns: [
          { name: "id", type: "String" },
          { name: "price", type: "Tuple(currency String, units Int64)" },
          { name: "units", type: "Int64" },
        ],
        fieldMappings: [{ sourceField: "price.units", destinationField: "units" }],
        secrets: { registry: registrySecret(env) },
      },
      values,
      { rows: 2, errors: 0 },
    );
    expect(rows).toEqual([
      { id: "s-1", price: { currency: "EUR", units: 12 }, units: 12 },
      { id: "s-2", price: { currency: "USD", units: 7_000_000_000 }, units: 7_000_000_000 },
    ]);
  });

  it("Protobuf with the .proto and message type given in the manifest", async () => {
    const rows = await runPipe(
      {
        table: "proto_manifest",
        kafka: { format: "Protobuf", formatOptions: { protobufSchema: PROTO, protobufMessageType: "shop.Order" } },
        columns: protoColumns,
        fieldMappings: [{ sourceField: "address.city", destinationField: "city" }],
      },
      orders.map(encodeOrder),
      { rows: 3, errors: 0 },
    );
    expect(rows).toEqual(protoExpected);
  });

  it("plain Avro with the schema given in the manifest", async () => {
    const schema = {
      type: "record",
      name: "Reading",
      fields: [
        { name: "id", type: "int" },
        { name: "sensor", type: "string" },
        { name: "value", type: ["null", "double"], default: null },
        { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
        { name: "labels", type: { type: "map", values: "string" } },
      ],
    };
    const type = avro.Type.forSchema(schema as avro.Schema);
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const values = [
      type.toBuffer({ id: 1, sensor: "s-1", value: 21.5, at, labels: { room: "lab" } }),
      type.toBuffer({ id: 2, sensor: "s-2", value: null, at, labels: {} }),
      Buffer.from([0x02]), // truncated: an id and nothing else
    ];
    const rows = await runPipe(
      {
        table: "plain_avro",
        kafka: { format: "Avro", formatOptions: { avroSchema: JSON.stringify(schema) } },
        columns: [
          { name: "id", type: "Int32" },
          { name: "sensor", type: "String" },
          { name: "value", type: "Nullable(Float64)" },
          { name: "at", type: "DateTime64(3, 'UTC')" },
          { name: "labels", type: "Map(String, String)" },
        ],
      },
      values,
      { rows: 2, errors: 1 },
    );
    expect(rows).toEqual([
      { id: 1, sensor: "s-1", value: 21.5, at: "2024-01-02 03:04:05.678", labels: { room: "lab" } },
      { id: 2, sensor: "s-2", value: null, at: "2024-01-02 03:04:05.678", labels: {} },
    ]);
    expect(await errorTypes("plain_avro")).toEqual([{ error_type: "DATA_PARSING_ERROR" }]);
  });

  const delimitedColumns = [
    { name: "id", type: "Int32" },
    { name: "name", type: "String" },
    { name: "price", type: "Decimal(10, 2)" },
    { name: "note", type: "Nullable(String)" },
  ];
  const delimitedExpected = [
    { id: 1, name: "plain", price: 1.5, note: "x" },
    { id: 2, name: "with, comma", price: 2, note: null },
    { id: 3, name: 'say "hi"', price: 3.25, note: "" },
  ];

  it("CSV: one row per message, fields by position (the destination's columns), quoting as RFC 4180; a bad value is a record error", async () => {
    const values = ["1,plain,1.50,x", '2,"with, comma",2,\\N', '3,"say ""hi""",3.25,""\n', "4,bad,not-a-number,x", '5,"unclosed'].map((s) => Buffer.from(s));
    const rows = await runPipe({ table: "csv_rows", kafka: { format: "CSV" }, columns: delimitedColumns }, values, { rows: 3, errors: 2 });
    expect(rows).toEqual(delimitedExpected);
    expect((await errorTypes("csv_rows")).map((e) => e.error_type).sort()).toEqual(["DATA_PARSING_ERROR", "TYPE_ERROR"]);
  });

  it("CSVWithNames: a header line names the fields, in any order", async () => {
    const values = ["name,id,note,price\nplain,1,x,1.50", 'id,name,price\n2,"with, comma",2', 'price,id,name,note\n3.25,3,"say ""hi""",""'].map((s) => Buffer.from(s));
    const rows = await runPipe({ table: "csv_names", kafka: { format: "CSVWithNames" }, columns: delimitedColumns }, values, { rows: 3, errors: 0 });
    expect(rows).toEqual(delimitedExpected);
  });

  it("TabSeparated: fields by the names formatOptions.columns gives, with ClickHouse's escapes and \\N for NULL", async () => {
    const values = ["1\tplain\t1.50\tx", "2\twith, comma\t2\t\\N", '3\tsay "hi"\t3.25\t', "4\ttab\\there\\nline\\\\\t4\t\\N"].map((s) => Buffer.from(s));
    const rows = await runPipe(
      { table: "tsv_rows", kafka: { format: "TabSeparated", formatOptions: { columns: ["id", "name", "price", "note"] } }, columns: delimitedColumns },
      values,
      { rows: 4, errors: 0 },
    );
    expect(rows).toEqual([...delimitedExpected, { id: 4, name: "tab\there\nline\\", price: 4, note: null }]);
  });

  it("TabSeparatedWithNames: a header line names the fields", async () => {
    const values = ["id\tname\tprice\tnote\n1\tplain\t1.50\tx", "note\tprice\tname\tid\n\\N\t2\twith, comma\t2", "id\tprice\tname\tnote\n3\t3.25\tsay \"hi\"\t"].map((s) => Buffer.from(s));
    const rows = await runPipe({ table: "tsv_names", kafka: { format: "TabSeparatedWithNames" }, columns: delimitedColumns }, values, { rows: 3, errors: 0 });
    expect(rows).toEqual(delimitedExpected);
  });
});
