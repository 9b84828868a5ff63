import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { dropTestDatabases, mysqlConnection, writeMysqlPipeFile } from "./mysql-helpers.js";

const env = inject("stackEnv");
const enabled = env.MYSQL_URL !== undefined;
const ch = clickhouse(env);
const db = uniqueName("mysql_types");
const src = uniqueName("src");
let my: Connection;

/** Every column type the mapping documents, with the ClickHouse type it becomes. */
const COLUMNS: readonly [string, string, string][] = [
  ["id", "INT PRIMARY KEY", "Int32"],
  ["i8", "TINYINT", "Nullable(Int8)"],
  ["u8", "TINYINT UNSIGNED", "Nullable(UInt8)"],
  ["i16", "SMALLINT", "Nullable(Int16)"],
  ["i24", "MEDIUMINT", "Nullable(Int32)"],
  ["u32", "INT UNSIGNED", "Nullable(UInt32)"],
  ["i64", "BIGINT", "Nullable(Int64)"],
  ["u64", "BIGINT UNSIGNED", "Nullable(UInt64)"],
  ["dc", "DECIMAL(65,30)", "Nullable(Decimal(65, 30))"],
  ["dc2", "DECIMAL(10,2) NOT NULL DEFAULT 0", "Decimal(10, 2)"],
  ["f32", "FLOAT", "Nullable(Float32)"],
  ["f64", "DOUBLE", "Nullable(Float64)"],
  ["bits", "BIT(10)", "Nullable(UInt64)"],
  ["yr", "YEAR", "Nullable(UInt16)"],
  ["d", "DATE", "Nullable(Date32)"],
  ["dt", "DATETIME(6)", "Nullable(DateTime64(6))"],
  ["dt0", "DATETIME", "Nullable(DateTime64(0))"],
  ["ts", "TIMESTAMP(6) NULL", "Nullable(DateTime64(6, 'UTC'))"],
  ["tm", "TIME(3)", "Nullable(String)"],
  ["js", "JSON", "Nullable(String)"],
  ["en", "ENUM('a','b,c','d')", "Nullable(String)"],
  ["st", "SET('x','y','z')", "Nullable(String)"],
  ["vc", "VARCHAR(20)", "Nullable(String)"],
  ["tx", "TEXT", "Nullable(String)"],
  ["bl", "BLOB", "Nullable(String)"],
  ["bn", "BINARY(4)", "Nullable(String)"],
  ["uu", "UUID", "Nullable(UUID)"],
  ["ip4", "INET4", "Nullable(IPv4)"],
  ["ip6", "INET6", "Nullable(IPv6)"],
];

/** Row 1: edge values; row 2: NULLs and zero dates; row 3: a DATETIME ClickHouse cannot hold (a record error). */
const ROWS = [
  `(1, -128, 255, -32768, -8388608, 4294967295, -9223372036854775808, 18446744073709551615, '12345678901234567890123456789012345.123456789012345678901234567890', -12345678.99, 1.5, -2.25, b'1010101010', 2155, '2024-02-29', '2024-01-02 03:04:05.123456', '2299-12-31 23:59:59', '2038-01-19 03:14:07.999999', '-838:59:58.999', '{"big": 9007199254740993, "s": "é"}', 'b,c', 'x,z', 'héllo 😀', 'line\\nnext', X'00ff10', X'01020000', '123e4567-e89b-12d3-a456-426614174000', '10.1.2.3', '::ffff:1.2.3.4')`,
  `(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, '0000-00-00', '0000-00-00 00:00:00', '2024-00-10 00:00:00', NULL, NULL, NULL, NULL, '', '', NULL, NULL, NULL, NULL, NULL, '2001:db8::1')`,
  `(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 1901, '1000-01-01', '1000-01-01 00:00:00', NULL, NULL, '00:00:00', '[]', 'a', 'y', 'x', 'x', X'', X'', NULL, NULL, NULL)`,
];

const EXPECTED_1 = {
  id: 1, i8: -128, u8: 255, i16: -32768, i24: -8388608, u32: 4294967295, i64: "-9223372036854775808", u64: "18446744073709551615",
  dc: "12345678901234567890123456789012345.12345678901234567890123456789", dc2: "-12345678.99", f32: 1.5, f64: -2.25, bits: "682", yr: 2155,
  d: "2024-02-29", dt: "2024-01-02 03:04:05.123456", dt0: "2299-12-31 23:59:59", ts: "2038-01-19 03:14:07.999999", tm: "-838:59:58.999",
  js: '{"big": 9007199254740993, "s": "é"}', en: "b,c", st: "x,z", vc: "héllo 😀", tx: "line\nnext", bl: "AP8Q", bn: "AQIAAA==", uu: "123e4567-e89b-12d3-a456-426614174000", ip4: "10.1.2.3", ip6: "::ffff:1.2.3.4",
};
const EXPECTED_2 = {
  id: 2, i8: null, u8: null, i16: null, i24: null, u32: null, i64: null, u64: null, dc: null, dc2: "0", f32: null, f64: null, bits: null, yr: null,
  d: null, dt: null, dt0: null, ts: null, tm: null, js: null, en: null, st: "", vc: "", tx: null, bl: null, bn: null, uu: null, ip4: null, ip6: "2001:db8::1",
};

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  my = await mysqlConnection(env);
  await my.query(`CREATE DATABASE ${src} CHARACTER SET utf8mb4`);
  await my.query("SET SESSION time_zone = '+00:00', SESSION sql_mode = ''");
  const ddl = COLUMNS.map(([name, type]) => `${name} ${type}`).join(", ");
  await my.query(`CREATE TABLE ${src}.snap (${ddl})`);
  await my.query(`CREATE TABLE ${src}.repl (${ddl})`);
  await my.query(`INSERT INTO ${src}.snap VALUES ${ROWS.join(", ")}`);
});

afterAll(async () => {
  if (!enabled) return;
  await dropTestDatabases(ch, my, db, src);
});

async function rows(table: string): Promise<Record<string, unknown>[]> {
  // Decimals as exact text (JSON numbers would round them).
  const cols = COLUMNS.map(([name]) => (name.startsWith("dc") ? `toString(${name}) AS ${name}_text` : name)).join(", ");
  const out = await queryRows<Record<string, unknown>>(ch, `SELECT ${cols} FROM ${db}.${table} FINAL WHERE _peerdb_is_deleted = 0 ORDER BY id`);
  return out.map(({ dc_text, dc2_text, ...r }) => ({ ...r, dc: dc_text === "\\N" ? null : dc_text, dc2: dc2_text }));
}

describe.skipIf(!enabled)("MySQL type mapping, value by value, through the snapshot and the binlog", () => {
  it("maps every documented type; a value ClickHouse cannot hold is a record error with its raw row", async () => {
    const file = writeMysqlPipeFile(env, {
      name: "types",
      database: db,
      tables: [
        { sourceSchemaName: src, sourceTable: "snap", targetTable: "snap" },
        { sourceSchemaName: src, sourceTable: "repl", targetTable: "repl" },
      ],
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("the snapshot rows", async () => (await count(ch, `SELECT count() FROM ${db}.snap`)) === 2, 60_000, consumer);
      await my.query(`INSERT INTO ${src}.repl VALUES ${ROWS.join(", ")}`);
      await waitFor("the replicated rows", async () => (await count(ch, `SELECT count() FROM ${db}.repl`)) === 2, 60_000, consumer);
      await waitFor("both error rows", async () => (await count(ch, `SELECT count() FROM ${db}.repl_clickpipes_error`)) === 1, 60_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
    const types = await queryRows<{ name: string; type: string }>(ch, `SELECT name, type FROM system.columns WHERE database = '${db}' AND table = 'snap' AND name NOT LIKE '_peerdb%' ORDER BY position`);
    expect(types).toEqual(COLUMNS.map(([name, , type]) => ({ name, type })));
    for (const table of ["snap", "repl"]) {
      expect(await rows(table)).toEqual([EXPECTED_1, EXPECTED_2]);
      const errors = await queryRows<{ error_type: string; raw_message: string; message: string }>(ch, `SELECT error_type, raw_message, message FROM ${db}.${table}_clickpipes_error`);
      expect(errors).toHaveLength(1);
      expect(JSON.parse(errors[0]?.raw_message ?? "{}")).toMatchObject({ id: 3, d: "1000-01-01", dt: "1000-01-01 00:00:00.000000", _peerdb_is_deleted: 0 });
    }
  });
});
