import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { count, clickhouse, createTopic, kafka, produce, queryRows, startConsumer, stopConsumer, uniqueName, waitFor, writePipeFile } from "./ingest-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("ingest");

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

const BASE_TS = Date.UTC(2024, 4, 1);

function goodMessage(id: number): string {
  return JSON.stringify({ id, name: `n${id}`, amount: id / 4, ts: new Date(BASE_TS + id).toISOString(), tags: [`t${id % 3}`], extra: "ignored" });
}

describe("Kafka → ClickHouse", () => {
  it("ingests 100k messages over 3 partitions with bad records routed to the error table, exactly", async () => {
    const topic = uniqueName("events");
    await createTopic(env, topic, 3);
    const total = 100_000;
    const kind = (i: number): "malformed" | "wrongType" | "good" => (i % 100 === 13 ? "malformed" : i % 100 === 57 ? "wrongType" : "good");
    const messages = Array.from({ length: total }, (_, i) => {
      const k = kind(i);
      const value = k === "malformed" ? `{"id": ${i}, "name": ` : k === "wrongType" ? JSON.stringify({ id: `not-a-number-${i}`, name: "x" }) : goodMessage(i);
      return { key: `k${i}`, value, headers: { source: "test", seq: String(i) } };
    });
    await produce(env, topic, messages, 3);
    const file = writePipeFile(env, {
      name: "hundred-k",
      database: db,
      table: "events",
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
      columns: [
        { name: "id", type: "UInt64" },
        { name: "name", type: "String" },
        { name: "amount", type: "Float64" },
        { name: "ts", type: "DateTime64(3, 'UTC')" },
        { name: "tags", type: "Array(String)" },
        { name: "_key", type: "String" },
        { name: "_timestamp", type: "DateTime64(3)" },
        { name: "_partition", type: "Int32" },
        { name: "_offset", type: "Int64" },
        { name: "_topic", type: "String" },
        { name: "_header_keys", type: "Array(String)" },
        { name: "_header_values", type: "Array(String)" },
      ],
      sortingKey: ["id"],
      settings: { maxBatchRows: 30_000 },
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("all 100k records in the table or the error table", async () => {
        const n = (await count(ch, `SELECT count() c FROM ${db}.events`)) + (await count(ch, `SELECT count() c FROM ${db}.events_clickpipes_error`));
        return n >= total;
      }, 180_000, consumer);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }

    const good = messages.filter((_, i) => kind(i) === "good").length;
    expect(await count(ch, `SELECT count() c FROM ${db}.events`)).toBe(good);
    const errors = await queryRows<{ error_type: string; c: string }>(ch, `SELECT error_type, count() c FROM ${db}.events_clickpipes_error GROUP BY error_type ORDER BY error_type`);
    expect(errors).toEqual([
      { error_type: "DECODE_ERROR", c: "1000" },
      { error_type: "TYPE_ERROR", c: "1000" },
    ]);

    // Column by column: every value derived from id must match what was produced.
    const wrong = await queryRows<Record<string, string>>(
      ch,
      `SELECT
         countIf(name != concat('n', toString(id))) AS name,
         countIf(amount != id / 4) AS amount,
         countIf(toUnixTimestamp64Milli(ts) != ${BASE_TS} + id) AS ts,
         countIf(tags != [concat('t', toString(id % 3))]) AS tags,
         countIf(_key != concat('k', toString(id))) AS key,
         countIf(_topic != '${topic}') AS topic,
         countIf(_partition != id % 3) AS partition,
         countIf(_header_keys != ['source', 'seq'] OR _header_values != ['test', toString(id)]) AS headers,
         countIf(abs(dateDiff('second', _timestamp, now64(3))) > 3600) AS timestamp,
         uniqExact(_partition, _offset) AS positions,
         uniqExact(id) AS ids
       FROM ${db}.events`,
    );
    expect(wrong[0]).toEqual({ name: "0", amount: "0", ts: "0", tags: "0", key: "0", topic: "0", partition: "0", headers: "0", timestamp: "0", positions: String(good), ids: String(good) });

    const decodeErrors = await queryRows<{ raw_message: string; message: string; source_position: string }>(
      ch,
      `SELECT raw_message, message, source_position FROM ${db}.events_clickpipes_error WHERE error_type = 'DECODE_ERROR' ORDER BY source_position LIMIT 1`,
    );
    expect(decodeErrors[0]?.raw_message).toMatch(/^\{"id": \d+, "name": $/);
    expect(decodeErrors[0]?.message).toMatch(/malformed JSON/);
    expect(decodeErrors[0]?.source_position).toMatch(new RegExp(`^${topic}/[0-2]/\\d+$`));
    const typeErrors = await queryRows<{ raw_message: string; message: string }>(ch, `SELECT raw_message, message FROM ${db}.events_clickpipes_error WHERE error_type = 'TYPE_ERROR' LIMIT 1`);
    expect(typeErrors[0]?.message).toMatch(/column "id".*UInt64.*not-a-number/);
    expect(typeErrors[0]?.raw_message).toMatch(/not-a-number/);

    const state = await queryRows<{ rows: string; errors: string }>(ch, `SELECT sum(rows) rows, sum(record_errors) errors FROM ${db}.clickpipes_state WHERE pipe = 'test/hundred-k'`);
    expect(state[0]).toEqual({ rows: String(good), errors: "2000" });

    const admin = kafka(env).admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: "clickpipes-test-hundred-k", topics: [topic] });
    await admin.disconnect();
    const sum = committed[0]!.partitions.reduce((acc, p) => acc + Number(p.offset), 0);
    expect(sum).toBe(total);
  });

  it("inserts the last records of a backlog as soon as it is read, not at the batch wait time", async () => {
    const topic = uniqueName("backlog");
    await createTopic(env, topic, 3);
    const total = 25_000;
    await produce(env, topic, Array.from({ length: total }, (_, i) => ({ value: goodMessage(i) })), 3);
    const file = writePipeFile(env, {
      name: "backlog",
      database: db,
      table: "backlog",
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
      columns: [
        { name: "id", type: "UInt64" },
        { name: "name", type: "String" },
      ],
      sortingKey: ["id"],
      // Two full batches and a tail of 5,000: with a 10-minute wait, only the caught-up flush can insert the tail in time.
      settings: { maxBatchRows: 10_000, streamingMaxInsertWaitTime: "10m" },
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("the backlog's tail in the table", async () => (await count(ch, `SELECT count() c FROM ${db}.backlog`)) >= total, 120_000, consumer);
      expect(await count(ch, `SELECT uniqExact(id) c FROM ${db}.backlog`)).toBe(total);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
  });

  it("maps dotted source fields and converts the full type matrix", async () => {
    const topic = uniqueName("types");
    await createTopic(env, topic, 1);
    const record = {
      id: 1,
      customer: { name: "Ada", address: { city: "Paris" } },
      i8: -128, i16: 32767, i32: -2147483648, i64: "9223372036854775807", i128: "-170141183460469231731687303715884105728", i256: "1",
      u8: 255, u16: 65535, u32: 4294967295, u64: "18446744073709551615", u128: "340282366920938463463374607431768211455", u256: "2",
      f32: 1.5, f64: -2.25, dec: "12345.6789", flag: true, s: "hé\"llo", fs: "abc",
      d: "2024-02-29", d32: "2100-01-01", dt: "2024-05-01T12:34:56Z", dt64: "2024-05-01T12:34:56.789Z",
      e8: "b", e16: "y", uuid: "123e4567-e89b-12d3-a456-426614174000", ip4: "10.1.2.3", ip6: "2001:db8::1",
      lc: "low", n: null, m: { a: 1, b: 2 }, t: ["x", 7], arr: [1, 2, 3], narr: [1, null], js: { k: { nested: [1, 2] } },
    };
    await produce(env, topic, [{ value: JSON.stringify(record) }], 1);
    const columns = [
      ["id", "UInt32"], ["customer_name", "String"], ["city", "LowCardinality(String)"],
      ["i8", "Int8"], ["i16", "Int16"], ["i32", "Int32"], ["i64", "Int64"], ["i128", "Int128"], ["i256", "Int256"],
      ["u8", "UInt8"], ["u16", "UInt16"], ["u32", "UInt32"], ["u64", "UInt64"], ["u128", "UInt128"], ["u256", "UInt256"],
      ["f32", "Float32"], ["f64", "Float64"], ["dec", "Decimal(18, 4)"], ["flag", "Bool"], ["s", "String"], ["fs", "FixedString(3)"],
      ["d", "Date"], ["d32", "Date32"], ["dt", "DateTime('UTC')"], ["dt64", "DateTime64(3, 'UTC')"],
      ["e8", "Enum8('a' = 1, 'b' = 2)"], ["e16", "Enum16('x' = 1000, 'y' = 2000)"], ["uuid", "UUID"], ["ip4", "IPv4"], ["ip6", "IPv6"],
      ["lc", "LowCardinality(String)"], ["n", "Nullable(Int32)"], ["m", "Map(String, UInt8)"], ["t", "Tuple(String, Int32)"],
      ["arr", "Array(Int32)"], ["narr", "Array(Nullable(Int32))"], ["js", "JSON"], ["missing", "String"], ["_raw_message", "String"],
    ].map(([name, type]) => ({ name: name!, type: type! }));
    const file = writePipeFile(env, {
      name: "types",
      database: db,
      table: "types",
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
      columns,
      fieldMappings: [
        { sourceField: "customer.name", destinationField: "customer_name" },
        { sourceField: "customer.address.city", destinationField: "city" },
      ],
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("the row", async () => (await count(ch, `SELECT count() c FROM ${db}.types`)) === 1, 90_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
    expect(await count(ch, `SELECT count() c FROM ${db}.types_clickpipes_error`)).toBe(0);
    const rows = await queryRows<Record<string, unknown>>(
      ch,
      `SELECT * EXCEPT (js, _raw_message), toString(js) AS js, _raw_message = '${JSON.stringify(record).replaceAll("\\", "\\\\").replaceAll("'", "\\'")}' AS raw_ok FROM ${db}.types SETTINGS output_format_json_quote_64bit_integers = 1`,
    );
    expect(rows[0]).toEqual({
      id: 1, customer_name: "Ada", city: "Paris",
      i8: -128, i16: 32767, i32: -2147483648, i64: "9223372036854775807", i128: "-170141183460469231731687303715884105728", i256: "1",
      u8: 255, u16: 65535, u32: 4294967295, u64: "18446744073709551615", u128: "340282366920938463463374607431768211455", u256: "2",
      f32: 1.5, f64: -2.25, dec: 12345.6789, flag: true, s: 'hé"llo', fs: "abc",
      d: "2024-02-29", d32: "2100-01-01", dt: "2024-05-01 12:34:56", dt64: "2024-05-01 12:34:56.789",
      e8: "b", e16: "y", uuid: "123e4567-e89b-12d3-a456-426614174000", ip4: "10.1.2.3", ip6: "2001:db8::1",
      lc: "low", n: null, m: { a: 1, b: 2 }, t: ["x", 7], arr: [1, 2, 3], narr: [1, null], missing: "",
      js: '{"k":{"nested":["1","2"]}}', raw_ok: 1,
    });
  });

  it("refuses to start against an existing table that lacks a column, naming it", async () => {
    const topic = uniqueName("existing");
    await createTopic(env, topic, 1);
    await ch.command({ query: `CREATE TABLE ${db}.existing (id UInt64, name String) ENGINE = MergeTree ORDER BY id` });
    const file = writePipeFile(env, {
      name: "existing",
      database: db,
      table: "existing",
      managedTable: false,
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
      columns: [
        { name: "id", type: "UInt64" },
        { name: "name", type: "String" },
        { name: "price", type: "Decimal(10, 2)" },
      ],
    });
    const consumer = startConsumer(file);
    const code = await Promise.race([consumer.exited, new Promise((r) => setTimeout(() => r("timeout"), 60_000))]);
    expect(code).toBe(1);
    expect(consumer.log()).toMatch(/column "price" \(Decimal\(10, 2\)\) does not exist in the table/);
    const log = await queryRows<{ error_type: string; message: string }>(ch, `SELECT error_type, message FROM ${db}.clickpipes_log WHERE pipe = 'test/existing'`);
    expect(log).toEqual([{ error_type: "SCHEMA_MISMATCH", message: expect.stringMatching(/price/) as unknown }]);
  });

  it("on SIGTERM inserts the batch in flight, commits it and exits 0 within 15 s", async () => {
    const topic = uniqueName("sigterm");
    await createTopic(env, topic, 2);
    await produce(env, topic, Array.from({ length: 500 }, (_, i) => ({ value: goodMessage(i) })), 2);
    const file = writePipeFile(env, {
      name: "sigterm",
      database: db,
      table: "sigterm",
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
      columns: [{ name: "id", type: "UInt64" }, { name: "name", type: "String" }],
      // Only SIGTERM can make this batch go in: it is neither full nor old enough.
      settings: { streamingMaxInsertWaitTime: "10m" },
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("the consumer to hold records", () => Promise.resolve(consumer.log().includes('"msg":"consuming"')), 60_000, consumer);
      await new Promise((r) => setTimeout(r, 3_000));
      const t0 = Date.now();
      expect(await stopConsumer(consumer)).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() c FROM ${db}.sigterm`)).toBe(500);
    const admin = kafka(env).admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: "clickpipes-test-sigterm", topics: [topic] });
    await admin.disconnect();
    expect(committed[0]!.partitions.reduce((acc, p) => acc + Number(p.offset), 0)).toBe(500);
  });
});
