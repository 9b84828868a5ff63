/**
 * The coercer's output against a real ClickHouse engine with a server's default settings
 * (date_time_input_format=basic, async_insert=0): for each supported type, values coerced
 * by src/clickhouse/coerce.ts are inserted as JSONEachRow and read back as ClickHouse
 * prints them; values that must not go in are refused by the coercer with a precise reason.
 * Also: the managed-table DDL of every engine, the bookkeeping tables and the contract's
 * totals query, the existing-table check, and the per-pipe user's grants.
 */
import type { ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClickHouseClient, quoteIdent } from "../../src/clickhouse/client.js";
import { CoercionError, compileCoercer } from "../../src/clickhouse/coerce.js";
import { checkExistingTable, createTableSql, errorTableSql, logTableSql, readTableColumns, stateTableSql, stateTotalsSql, type ManagedTableSpec } from "../../src/clickhouse/ddl.js";
import { classifyClickHouseError } from "../../src/clickhouse/errors.js";
import { parseType } from "../../src/clickhouse/type-parser.js";
import { createUserSql, dropUserSql, grantsSql } from "../../src/clickhouse/users.js";

const env = inject("stackEnv");

function required(key: string): string {
  const value = env[key];
  if (value === undefined || value === "") throw new Error(`stack env has no ${key}: is the clickhouse component up?`);
  return value;
}

const db = `it_types_${process.pid}_${Date.now()}`;
let client: ClickHouseClient;

beforeAll(async () => {
  client = createClickHouseClient({ url: required("CLICKHOUSE_URL"), username: required("CLICKHOUSE_USER"), password: env.CLICKHOUSE_PASSWORD ?? "" });
  await client.command({ query: `CREATE DATABASE ${quoteIdent(db)}` });
});

afterAll(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${quoteIdent(db)}` });
  await client.close();
});

interface TypeCase {
  readonly type: string;
  /** [source value, ClickHouse's toString() of the stored value (null for NULL)]; `undefined` source = field absent. */
  readonly accepted: readonly (readonly [unknown, string | null])[];
  /** [source value, reason the coercer gives]. */
  readonly rejected: readonly (readonly [unknown, string])[];
}

const cases: readonly TypeCase[] = [
  { type: "Int8", accepted: [[-128, "-128"], [127, "127"], ["-5", "-5"], [undefined, "0"]], rejected: [[128, "out of range -128..127"], [1.5, "not an integer"]] },
  { type: "Int16", accepted: [[-32768, "-32768"], [32767, "32767"]], rejected: [[32768, "out of range"]] },
  { type: "Int32", accepted: [[-2147483648, "-2147483648"], ["2147483647", "2147483647"]], rejected: [["2147483648", "out of range"], ["x", "not an integer"]] },
  {
    type: "Int64",
    accepted: [["-9223372036854775808", "-9223372036854775808"], ["9223372036854775807", "9223372036854775807"], [Number.MAX_SAFE_INTEGER, "9007199254740991"]],
    rejected: [["9223372036854775808", "out of range"], [2 ** 63, "lost precision"]],
  },
  {
    type: "Int128",
    accepted: [["-170141183460469231731687303715884105728", "-170141183460469231731687303715884105728"], ["170141183460469231731687303715884105727", "170141183460469231731687303715884105727"]],
    rejected: [["170141183460469231731687303715884105728", "out of range"]],
  },
  {
    type: "Int256",
    accepted: [["-57896044618658097711785492504343953926634992332820282019728792003956564819968", "-57896044618658097711785492504343953926634992332820282019728792003956564819968"], [1, "1"]],
    rejected: [["57896044618658097711785492504343953926634992332820282019728792003956564819968", "out of range"]],
  },
  { type: "UInt8", accepted: [[0, "0"], [255, "255"], ["+7", "7"]], rejected: [[256, "out of range 0..255"], [-1, "out of range 0..255"]] },
  { type: "UInt16", accepted: [[65535, "65535"]], rejected: [[65536, "out of range"]] },
  { type: "UInt32", accepted: [[4294967295, "4294967295"]], rejected: [[4294967296, "out of range"]] },
  { type: "UInt64", accepted: [["18446744073709551615", "18446744073709551615"], [0, "0"]], rejected: [["18446744073709551616", "out of range"], ["-1", "out of range"]] },
  { type: "UInt128", accepted: [["340282366920938463463374607431768211455", "340282366920938463463374607431768211455"]], rejected: [["340282366920938463463374607431768211456", "out of range"]] },
  {
    type: "UInt256",
    accepted: [["115792089237316195423570985008687907853269984665640564039457584007913129639935", "115792089237316195423570985008687907853269984665640564039457584007913129639935"]],
    rejected: [["115792089237316195423570985008687907853269984665640564039457584007913129639936", "out of range"]],
  },
  { type: "Float32", accepted: [[1.5, "1.5"], ["-2.25", "-2.25"], ["inf", "inf"], ["nan", "nan"]], rejected: [[1e39, "out of range"], ["abc", "not a number"]] },
  { type: "Float64", accepted: [[1.7976931348623157e308, "1.7976931348623157e308"], [-0.1, "-0.1"], ["-inf", "-inf"]], rejected: [[true, "not a number"]] },
  { type: "BFloat16", accepted: [[1.5, "1.5"], [-2, "-2"]], rejected: [["x", "not a number"]] },
  {
    type: "Decimal(10,2)",
    accepted: [["12345678.99", "12345678.99"], [-0.5, "-0.5"], [1.239, "1.23"], ["1.5e2", "150"]],
    rejected: [["abc", "not a decimal number"], ["123456789", "more than 8 digits before the decimal point"]],
  },
  { type: "Decimal32(4)", accepted: [["99999.9999", "99999.9999"]], rejected: [[100000, "more than 5 digits"]] },
  { type: "Decimal64(6)", accepted: [["-999999999999.999999", "-999999999999.999999"]], rejected: [["1000000000000", "more than 12 digits"]] },
  { type: "Decimal128(10)", accepted: [["1234567890123456789012345678.0123456789", "1234567890123456789012345678.0123456789"]], rejected: [] },
  {
    type: "Decimal256(20)",
    accepted: [["12345678901234567890123456789012345678901234567890123456.12345678901234567890", "12345678901234567890123456789012345678901234567890123456.1234567890123456789"]],
    rejected: [],
  },
  { type: "Bool", accepted: [[true, "true"], [0, "false"], ["true", "true"], ["FALSE", "false"]], rejected: [["yes", "not true/false"]] },
  {
    type: "String",
    accepted: [["héllo \"world\"\n", "héllo \"world\"\n"], [42, "42"], [{ a: [1, "x"] }, '{"a":[1,"x"]}'], [null, ""]],
    rejected: [],
  },
  { type: "FixedString(4)", accepted: [["abcd", "abcd"], ["é", "é"]], rejected: [["abcde", "longer than 4 bytes"], ["ééé", "longer than 4 bytes"]] },
  {
    type: "Date",
    accepted: [["1970-01-01", "1970-01-01"], ["2149-06-06", "2149-06-06"], ["2024-02-29T23:30:00-01:00", "2024-03-01"], [19675, "2023-11-14"], [1_700_000_000, "2023-11-14"]],
    rejected: [["2149-06-07", "out of range"], ["1969-12-31", "out of range"], ["2023-02-29", "no such calendar date"], ["14/11/2023", "not an ISO 8601 date"]],
  },
  { type: "Date32", accepted: [["1900-01-01", "1900-01-01"], ["2299-12-31", "2299-12-31"], [-1, "1969-12-31"]], rejected: [["1899-12-31", "out of range"], ["2300-01-01", "out of range"]] },
  {
    type: "DateTime",
    accepted: [
      ["2023-11-14T22:13:20Z", "2023-11-14 22:13:20"],
      ["2023-11-15T00:13:20+02:00", "2023-11-14 22:13:20"],
      ["2023-11-14 22:13:20", "2023-11-14 22:13:20"],
      [1_700_000_000, "2023-11-14 22:13:20"],
      ["1970-01-01T00:00:00Z", "1970-01-01 00:00:00"],
      ["2106-02-07T06:28:15Z", "2106-02-07 06:28:15"],
    ],
    rejected: [["1969-12-31T23:59:59Z", "out of range"], ["2023-11-14T22:13:20 UTC", "unexpected text after the time"], [1_700_000_000_000, "out of range"]],
  },
  // The column's own time zone must not shift the instant: the coercer writes Unix seconds.
  { type: "DateTime('Asia/Kolkata')", accepted: [["2023-11-14T22:13:20Z", "2023-11-15 03:43:20"]], rejected: [] },
  {
    type: "DateTime64(3)",
    accepted: [
      ["2023-11-14T22:13:20.123456Z", "2023-11-14 22:13:20.123"],
      ["1969-12-31T23:59:58.750Z", "1969-12-31 23:59:58.750"],
      ["1900-01-01T00:00:00Z", "1900-01-01 00:00:00.000"],
      ["2299-12-31T23:59:59.999Z", "2299-12-31 23:59:59.999"],
      [1_700_000_000.5, "2023-11-14 22:13:20.500"],
      [new Date(Date.UTC(2023, 10, 14, 22, 13, 20, 7)), "2023-11-14 22:13:20.007"],
    ],
    rejected: [["1899-12-31T23:59:59Z", "out of range"], ["2023-13-01T00:00:00Z", "no such calendar date"]],
  },
  { type: "DateTime64(6, 'UTC')", accepted: [["2023-11-14T22:13:20.1+01:00", "2023-11-14 21:13:20.100000"]], rejected: [] },
  { type: "DateTime64(9, 'Europe/Berlin')", accepted: [["2023-11-14T22:13:20.123456789Z", "2023-11-14 23:13:20.123456789"]], rejected: [["2263-01-01T00:00:00Z", "out of range"]] },
  { type: "DateTime64(0)", accepted: [["2023-11-14T22:13:20.9Z", "2023-11-14 22:13:20"]], rejected: [] },
  { type: "Enum8('a' = 1, 'b' = -2)", accepted: [["a", "a"], [-2, "b"]], rejected: [["c", "not one of 'a', 'b'"], [3, "not one of"]] },
  { type: "Enum16('big' = 1000, 'small' = -1000)", accepted: [["big", "big"], [-1000, "small"]], rejected: [["huge", "not one of"]] },
  {
    type: "UUID",
    accepted: [["123E4567-E89B-12D3-A456-426614174000", "123e4567-e89b-12d3-a456-426614174000"], ["123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-426614174000"]],
    rejected: [["123e4567-e89b-12d3-a456-42661417400", "not a UUID"]],
  },
  { type: "IPv4", accepted: [["192.168.0.1", "192.168.0.1"], [3232235522, "192.168.0.2"]], rejected: [["256.0.0.1", "not an IPv4 address"], ["::1", "not an IPv4 address"]] },
  { type: "IPv6", accepted: [["2001:DB8::1", "2001:db8::1"], ["10.0.0.1", "::ffff:10.0.0.1"]], rejected: [["2001:db8::g", "not an IPv6 address"]] },
  { type: "LowCardinality(String)", accepted: [["x", "x"], [1, "1"]], rejected: [] },
  { type: "LowCardinality(Nullable(String))", accepted: [["x", "x"], [null, null]], rejected: [] },
  { type: "Nullable(Int32)", accepted: [[5, "5"], [null, null], [undefined, null]], rejected: [["x", "not an integer"]] },
  // An absent field leaves the column's DEFAULT to ClickHouse; an explicit null is NULL.
  { type: "Nullable(String) DEFAULT 'fallback'", accepted: [[undefined, "fallback"], [null, null], ["x", "x"]], rejected: [] },
  { type: "Nullable(DateTime64(3, 'UTC'))", accepted: [["2023-11-14T22:13:20Z", "2023-11-14 22:13:20.000"], [null, null]], rejected: [] },
  { type: "Array(UInt8)", accepted: [[[1, "2", null], "[1,2,0]"], [[], "[]"]], rejected: [[[1, 256], "out of range 0..255"], ["1,2", "not an array"]] },
  { type: "Array(Nullable(String))", accepted: [[["a", null, 3], "['a',NULL,'3']"]], rejected: [] },
  { type: "Array(DateTime64(3, 'UTC'))", accepted: [[["2023-11-14T22:13:20.5Z"], "['2023-11-14 22:13:20.500']"]], rejected: [[["nope"], "not an ISO 8601 date"]] },
  { type: "Map(String, UInt64)", accepted: [[{ a: 1, b: "18446744073709551615" }, "{'a':1,'b':18446744073709551615}"], [{}, "{}"]], rejected: [[{ a: -1 }, "out of range"], [[1], "not a JSON object"]] },
  { type: "Map(LowCardinality(String), Nullable(Float64))", accepted: [[{ x: null, y: 1.5 }, "{'x':NULL,'y':1.5}"]], rejected: [] },
  { type: "Map(UInt16, Array(String))", accepted: [[{ "7": ["a"] }, "{7:['a']}"]], rejected: [[{ x: [] }, "not an integer"]] },
  { type: "Tuple(String, UInt8)", accepted: [[["x", 1], "('x',1)"]], rejected: [[["x"], "has 1 elements, expected 2"]] },
  {
    type: "Tuple(name String, age Nullable(UInt8), at DateTime('UTC'))",
    accepted: [[{ name: "ann", age: null, at: "2023-11-14T22:13:20Z" }, "('ann',NULL,'2023-11-14 22:13:20')"], [["bob", 7, 0], "('bob',7,'1970-01-01 00:00:00')"]],
    rejected: [[{ name: "x", age: 300 }, "out of range 0..255"]],
  },
  { type: "JSON", accepted: [[{ a: { b: 1 }, c: "x" }, '{"a":{"b":"1"},"c":"x"}'], ['{"k":true}', '{"k":true}']], rejected: [["[1]", "not a JSON object"], [5, "not a JSON object"]] },
  // toString() prints a NULL Dynamic or Variant as an empty string.
  { type: "Dynamic", accepted: [[1.5, "1.5"], ["x", "x"], [null, ""]], rejected: [] },
  { type: "Variant(String, UInt64)", accepted: [["x", "x"], [5, "5"], [null, ""]], rejected: [] },
  { type: "SimpleAggregateFunction(sum, UInt64)", accepted: [[5, "5"]], rejected: [[-5, "out of range"]] },
];

async function selectStrings(table: string): Promise<(string | null)[]> {
  const result = await client.query({ query: `SELECT toString(c) AS s FROM ${quoteIdent(db)}.${quoteIdent(table)} ORDER BY n`, format: "JSONEachRow" });
  return (await result.json<{ s: string | null }>()).map((r) => r.s);
}

describe("coerced values are accepted by ClickHouse and read back as expected", () => {
  cases.forEach((c, i) => {
    it(c.type, async () => {
      const table = `t_${i}`;
      const coerce = compileCoercer(parseType(c.type.replace(/ DEFAULT .*$/, "")));
      await client.command({ query: `CREATE TABLE ${quoteIdent(db)}.${quoteIdent(table)} (n UInt32, c ${c.type}) ENGINE = MergeTree ORDER BY n` });
      const rows = c.accepted.map(([value], n) => ({ n, c: coerce(value) }));
      await client.insert({ table: `${db}.${table}`, values: rows, format: "JSONEachRow" });
      expect(await selectStrings(table)).toEqual(c.accepted.map(([, text]) => text));

      for (const [value, reason] of c.rejected) {
        let error: unknown;
        try {
          coerce(value);
        } catch (e) {
          error = e;
        }
        expect(error, `${c.type} must refuse ${JSON.stringify(value)}`).toBeInstanceOf(CoercionError);
        expect((error as CoercionError).message).toContain(reason);
      }
    });
  });
});

describe("managed table DDL", () => {
  const columns = [
    { name: "id", type: "UInt64" },
    { name: "ts", type: "DateTime64(3,'UTC')" },
    { name: "amount", type: "Decimal(10,2)" },
    { name: "name", type: "Nullable(String)" },
  ];
  const engines: [string, ManagedTableSpec["tableDefinition"]][] = [
    ["MergeTree", { engine: { type: "MergeTree" }, sortingKey: ["id", "ts"], partitionBy: "toYYYYMM(ts)", primaryKey: "id" }],
    ["MergeTree without keys", undefined],
    ["ReplacingMergeTree", { engine: { type: "ReplacingMergeTree", versionColumnId: "ts" }, sortingKey: ["id"] }],
    ["SummingMergeTree", { engine: { type: "SummingMergeTree", columnIds: ["amount"] }, sortingKey: ["id"] }],
    ["Null", { engine: { type: "Null" } }],
    ["Nullable sorting key", { engine: { type: "MergeTree" }, sortingKey: ["name"] }],
  ];

  it.each(engines)("creates a %s table, idempotently, that takes rows and matches its spec", async (label, tableDefinition) => {
    const table = `m_${label.replace(/\W+/g, "_")}`;
    const spec: ManagedTableSpec = { database: db, table, columns, tableDefinition };
    await client.command({ query: createTableSql(spec) });
    await client.command({ query: createTableSql(spec) });
    const coercers = columns.map((col) => [col.name, compileCoercer(parseType(col.type))] as const);
    const row = Object.fromEntries(coercers.map(([name, coerce], k) => [name, coerce([1, "2023-11-14T22:13:20Z", "9.99", "x"][k])]));
    await client.insert({ table: `${db}.${table}`, values: [row], format: "JSONEachRow" });
    const actual = await readTableColumns(client, db, table);
    expect(checkExistingTable(columns, actual ?? [])).toEqual([]);
  });

  it("reports each missing column and type mismatch of an existing table", async () => {
    await client.command({ query: `CREATE TABLE ${quoteIdent(db)}.existing (id UInt32, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id` });
    const actual = await readTableColumns(client, db, "existing");
    expect(actual).toEqual([
      { name: "id", type: "UInt32", defaultKind: "" },
      { name: "ts", type: "DateTime64(3, 'UTC')", defaultKind: "" },
    ]);
    expect(checkExistingTable(columns, actual ?? []).map((m) => m.message)).toEqual([
      'column "id" has type UInt32 in the table, but the pipe expects UInt64',
      'column "amount" (Decimal(10,2)) does not exist in the table',
      'column "name" (Nullable(String)) does not exist in the table',
    ]);
    expect(await readTableColumns(client, db, "no_such_table")).toBeUndefined();
  });
});

describe("bookkeeping tables", () => {
  it("creates the error, log and state tables and answers the contract's totals query", async () => {
    for (const sql of [errorTableSql(db, "events"), logTableSql(db), stateTableSql(db), errorTableSql(db, "events")]) await client.command({ query: sql });
    await client.insert({
      table: `${db}.events_clickpipes_error`,
      values: [{ time: "1700000000.123", pipe: "ns/p", error_type: "coercion", message: "m", raw_message: '{"x":1}', source_position: "t/0/5" }],
      format: "JSONEachRow",
    });
    await client.insert({ table: `${db}.clickpipes_log`, values: [{ time: "1700000000.000", pipe: "ns/p", level: "error", error_type: "system", message: "m" }], format: "JSONEachRow" });
    const stateRow = (rows: number, position: number, time: string): Record<string, unknown> => ({
      pipe: "ns/p",
      source_position: "t/0",
      rows: String(rows),
      bytes: String(rows * 100),
      record_errors: "1",
      batches: "1",
      position: String(position),
      lag: "0",
      last_insert_time: time,
    });
    // Two inserts make two parts: the totals must be exact before any merge.
    await client.insert({ table: `${db}.clickpipes_state`, values: [stateRow(10, 9, "1700000000.000")], format: "JSONEachRow" });
    await client.insert({ table: `${db}.clickpipes_state`, values: [stateRow(5, 14, "1700000001.500")], format: "JSONEachRow" });
    const result = await client.query({ query: stateTotalsSql(db), format: "JSONEachRow" });
    expect(await result.json()).toEqual([
      { pipe: "ns/p", total_rows: "15", total_bytes: "1500", total_record_errors: "2", latest_insert_time: "2023-11-14 22:13:21.500" },
    ]);
    const contract = await client.query({
      query: `SELECT pipe, sum(rows), sum(bytes), sum(record_errors), max(last_insert_time) FROM ${quoteIdent(db)}.clickpipes_state GROUP BY pipe`,
      format: "JSONCompactEachRow",
    });
    expect(await contract.json()).toEqual([["ns/p", "15", "1500", "2", "2023-11-14 22:13:21.500"]]);
  });
});

describe("per-pipe user", () => {
  it("can insert into its destination with destinationOnly grants, and is refused elsewhere", async () => {
    const user = `it_user_${process.pid}_${Date.now()}`;
    const password = "S3cret-'quoted'";
    await client.command({ query: `CREATE TABLE ${quoteIdent(db)}.dest (id UInt64) ENGINE = MergeTree ORDER BY id` });
    await client.command({ query: `CREATE TABLE ${quoteIdent(db)}.other (id UInt64) ENGINE = MergeTree ORDER BY id` });
    for (const sql of [errorTableSql(db, "dest"), logTableSql(db), stateTableSql(db)]) await client.command({ query: sql });
    await client.command({ query: createUserSql(user, password, db) });
    try {
      for (const sql of grantsSql({ kind: "destinationOnly" }, db, ["dest"], user)) await client.command({ query: sql });
      const pipeClient = createClickHouseClient({ url: required("CLICKHOUSE_URL"), username: user, password, database: db });
      try {
        await pipeClient.insert({ table: "dest", values: [{ id: "1" }], format: "JSONEachRow" });
        const refused = await pipeClient.insert({ table: "other", values: [{ id: "1" }], format: "JSONEachRow" }).then(
          () => undefined,
          (e: unknown) => classifyClickHouseError(e),
        );
        expect(refused).toMatchObject({ type: "ACCESS_DENIED", retriable: false });
      } finally {
        await pipeClient.close();
      }
      const count = await client.query({ query: `SELECT count() AS n FROM ${quoteIdent(db)}.dest`, format: "JSONEachRow" });
      expect(await count.json()).toEqual([{ n: "1" }]);
    } finally {
      await client.command({ query: dropUserSql(user) });
    }
  });

  it.each([
    ["full", { kind: "full" }],
    ["customRole", { kind: "customRole", role: `it_role_${process.pid}` }],
  ] as const)("can insert into any table of the database with %s grants", async (label, permissions) => {
    const user = `it_user_${label}_${process.pid}_${Date.now()}`;
    const table = `dest_${label}`;
    await client.command({ query: `CREATE TABLE ${quoteIdent(db)}.${quoteIdent(table)} (id UInt64) ENGINE = MergeTree ORDER BY id` });
    for (const sql of [errorTableSql(db, table), logTableSql(db), stateTableSql(db)]) await client.command({ query: sql });
    if (permissions.kind === "customRole") {
      await client.command({ query: `CREATE ROLE IF NOT EXISTS ${quoteIdent(permissions.role)}` });
      await client.command({ query: `GRANT INSERT ON ${quoteIdent(db)}.* TO ${quoteIdent(permissions.role)}` });
    }
    await client.command({ query: createUserSql(user, "pw", db) });
    try {
      for (const sql of grantsSql(permissions, db, [table], user)) await client.command({ query: sql });
      const pipeClient = createClickHouseClient({ url: required("CLICKHOUSE_URL"), username: user, password: "pw", database: db });
      try {
        await pipeClient.insert({ table, values: [{ id: "7" }], format: "JSONEachRow" });
        await pipeClient.insert({ table: `${table}_clickpipes_error`, values: [{ time: "0.000", pipe: "ns/p" }], format: "JSONEachRow" });
      } finally {
        await pipeClient.close();
      }
      const count = await client.query({ query: `SELECT count() AS n FROM ${quoteIdent(db)}.${quoteIdent(table)}`, format: "JSONEachRow" });
      expect(await count.json()).toEqual([{ n: "1" }]);
    } finally {
      await client.command({ query: dropUserSql(user) });
      if (permissions.kind === "customRole") await client.command({ query: `DROP ROLE IF EXISTS ${quoteIdent(permissions.role)}` });
    }
  });

  it("is refused with a wrong password, as a non-retriable authentication error", async () => {
    const bad = createClickHouseClient({ url: required("CLICKHOUSE_URL"), username: required("CLICKHOUSE_USER"), password: "definitely-wrong" });
    try {
      const error = await bad.query({ query: "SELECT 1" }).then(
        () => undefined,
        (e: unknown) => classifyClickHouseError(e),
      );
      expect(error).toMatchObject({ kind: "server", code: 516, type: "AUTHENTICATION_FAILED", retriable: false });
    } finally {
      await bad.close();
    }
  });
});
