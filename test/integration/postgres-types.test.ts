/** Every mapped Postgres type through the real engine, value by value; a value that does not fit is an error row with its raw form. */
import type pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { dropDatabase, freshDatabase, writePgPipeFile } from "./postgres-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const name = uniqueName("pgtypes");
let src: pg.Client;

/** Postgres type, a literal, and what ClickHouse's toString() shows for it. */
const CASES: readonly [string, string, string][] = [
  ["boolean", "true", "true"],
  ["smallint", "-32768", "-32768"],
  ["integer", "2147483647", "2147483647"],
  ["bigint", "9223372036854775807", "9223372036854775807"],
  ["real", "1.5", "1.5"],
  ["double precision", "'NaN'", "nan"],
  ["numeric(12,2)", "1234567890.12", "1234567890.12"],
  ["numeric", "123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"],
  ["money", "12.34", "12.34"],
  ["text", "'héllo\tworld'", "héllo\tworld"],
  ["varchar(5)", "'abc'", "abc"],
  ["uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
  ["json", `'{"b": 1, "a": [1, 2]}'`, `{"b": 1, "a": [1, 2]}`],
  ["jsonb", `'{"b": 1, "a": [1, 2]}'`, `{"a": [1, 2], "b": 1}`],
  ["bytea", "'\\x00ff10'", "00ff10"],
  ["date", "'2024-02-29'", "2024-02-29"],
  ["timestamp", "'2024-02-29 23:59:59.123456'", "2024-02-29 23:59:59.123456"],
  ["timestamptz", "'2024-02-29 23:59:59.5+02'", "2024-02-29 21:59:59.500000"],
  ["time", "'12:34:56.789'", "12:34:56.789"],
  ["interval", "'1 year 2 months 3 days 04:05:06'", "P1Y2M3DT4H5M6S"],
  ["inet", "'192.168.0.1/24'", "192.168.0.1/24"],
  ["mood", "'happy'", "happy"],
  ["integer[]", "'{1,NULL,3}'", "[1,NULL,3]"],
  ["text[]", `'{"a b",c}'`, "['a b','c']"],
];

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  src = await freshDatabase(env, name);
  await src.query("CREATE TYPE mood AS ENUM ('sad', 'happy')");
  await src.query(`CREATE TABLE types (id int PRIMARY KEY, ${CASES.map(([t], i) => `c${i} ${t}`).join(", ")})`);
  await src.query(`INSERT INTO types VALUES (1, ${CASES.map(([, v]) => v).join(", ")})`);
  await src.query("CREATE TABLE bad (id int PRIMARY KEY, n numeric, d date)");
  await src.query("INSERT INTO bad VALUES (1, 1.5, '2024-01-01'), (2, 'NaN', '2024-01-01'), (3, 2, '1800-01-01')");
});

afterAll(async () => {
  await src.end();
  await dropDatabase(env, name);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await ch.close();
});

it("maps every type exactly and keeps values that do not fit as error rows with their raw form", async () => {
  const consumer = startConsumer(writePgPipeFile(env, { name, pgDatabase: name, chDatabase: name, tables: ["types", "bad"] }));
  try {
    await waitFor("rows in", async () => (await count(ch, `SELECT count() AS n FROM ${name}.types`).catch(() => 0)) === 1 && (await count(ch, `SELECT count() AS n FROM ${name}.bad_clickpipes_error`).catch(() => 0)) === 2, 60_000, consumer);
    const [row] = await queryRows<Record<string, string>>(ch, `SELECT ${CASES.map((_, i) => `toString(c${i}) AS c${i}`).join(", ")} FROM ${name}.types`);
    expect(Object.fromEntries(CASES.map(([t], i) => [t, row?.[`c${i}`]]))).toEqual(Object.fromEntries(CASES.map(([t, , want]) => [t, want])));
    expect(await count(ch, `SELECT count() AS n FROM ${name}.bad FINAL`)).toBe(1);
    const errors = await queryRows<{ message: string; raw_message: string }>(ch, `SELECT message, raw_message FROM ${name}.bad_clickpipes_error ORDER BY raw_message`);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/column n \(numeric\).*NaN/), expect.stringMatching(/column d \(date\).*1800-01-01/)]);
    expect(errors[0]?.raw_message).toContain('"NaN"');
  } finally {
    await stopConsumer(consumer);
  }
}, 120_000);
