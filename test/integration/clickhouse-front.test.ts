import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type ClickHouseClient, ClickHouseError } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { frontCommand, frontEnv, pingFront } from "../stack/clickhouse-front/launch.js";
import { repoRoot } from "../stack/env.js";
import { freePort, waitFor } from "../stack/process.js";

const env = inject("stackEnv");
const url = env.CLICKHOUSE_URL as string;
const username = env.CLICKHOUSE_USER as string;
const password = env.CLICKHOUSE_PASSWORD as string;

/** A unique name per run: other suites share the front. */
const suffix = `${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
const db = `front_test_${suffix}`;

async function clickhouseError(p: Promise<unknown>): Promise<ClickHouseError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClickHouseError) return err;
    throw err;
  }
  throw new Error("expected the call to fail with a ClickHouse error");
}

let client: ClickHouseClient;

beforeAll(async () => {
  client = createClient({ url, username, password });
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

describe("clickhouse front: data round trip", () => {
  it("creates a MergeTree table with rich types, inserts JSONEachRow and reads back the same values", async () => {
    await client.command({
      query: `CREATE TABLE ${db}.rich (
        id UInt64,
        ts DateTime64(3, 'UTC'),
        attrs Map(String, String),
        country LowCardinality(String),
        note Nullable(String),
        tags Array(String),
        pair Tuple(a String, b Int32),
        uid UUID,
        v4 IPv4,
        v6 IPv6,
        amount Decimal(18, 4),
        big Int256,
        flag Bool,
        kind Enum8('click' = 1, 'view' = 2)
      ) ENGINE = MergeTree ORDER BY id`,
    });
    const rows = [
      {
        id: "1",
        ts: "2024-05-06 07:08:09.123",
        attrs: { browser: "firefox", os: "linux" },
        country: "FR",
        note: null,
        tags: ["a", "b"],
        pair: { a: "x", b: -7 },
        uid: "1f0e9d3c-8b7a-4c5d-9e6f-a1b2c3d4e5f6",
        v4: "192.168.1.10",
        v6: "2001:db8::1",
        amount: "12345.6789",
        big: "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
        flag: true,
        kind: "view",
      },
      {
        id: "18446744073709551615",
        ts: "1970-01-01 00:00:00.000",
        attrs: {},
        country: "",
        note: "tab\tand \"quotes\" and ünïcödé",
        tags: [],
        pair: { a: "", b: 2147483647 },
        uid: "00000000-0000-0000-0000-000000000000",
        v4: "0.0.0.0",
        v6: "::ffff:1.2.3.4",
        amount: "-0.0001",
        big: "57896044618658097711785492504343953926634992332820282019728792003956564819967",
        flag: false,
        kind: "click",
      },
    ];
    await client.insert({ table: `${db}.rich`, values: rows, format: "JSONEachRow" });
    const rs = await client.query({ query: `SELECT * FROM ${db}.rich ORDER BY id`, format: "JSONEachRow" });
    const back = await rs.json();
    expect(back).toEqual([
      { ...rows[0], amount: 12345.6789 },
      { ...rows[1], amount: -0.0001 },
    ]);
  });

  it("binds query parameters of several types ({name:Type})", async () => {
    const rs = await client.query({
      query: "SELECT {s:String} AS s, {n:Int64} AS n, {a:Array(String)} AS a, {d:DateTime64(3, 'UTC')} AS d, {m:Map(String, UInt8)} AS m",
      query_params: { s: "it's a\ttab\\", n: 9007199254740993n, a: ["x", "y'z"], d: new Date("2024-01-02T03:04:05.678Z"), m: { k: 1 } },
      format: "JSONEachRow",
    });
    expect(await rs.json()).toEqual([{ s: "it's a\ttab\\", n: "9007199254740993", a: ["x", "y'z"], d: "2024-01-02 03:04:05.678", m: { k: 1 } }]);
  });

  it("runs command and exec, and reports the insert in X-ClickHouse-Summary", async () => {
    await client.command({ query: `CREATE TABLE ${db}.events (id UInt32, name String) ENGINE = MergeTree ORDER BY id` });
    const ins = await client.insert({ table: `${db}.events`, values: [{ id: 1, name: "a" }, { id: 2, name: "b" }, { id: 3, name: "c" }], format: "JSONEachRow" });
    expect(ins.summary?.written_rows).toBe("3");
    expect(ins.query_id).toMatch(/.+/);

    const ex = await client.exec({ query: `SELECT count() AS c FROM ${db}.events FORMAT JSONEachRow` });
    let text = "";
    for await (const chunk of ex.stream) text += String(chunk);
    expect(JSON.parse(text)).toEqual({ c: "3" });
    expect(ex.response_headers["x-clickhouse-format"]).toBe("JSONEachRow");
    expect(ex.response_headers["x-clickhouse-query-id"]).toBe(ex.query_id);
    expect(ex.response_headers["x-clickhouse-timezone"]).toBeTruthy();

    const rs = await client.query({ query: `SELECT name FROM ${db}.events WHERE id >= 2 ORDER BY id`, format: "JSONCompactEachRow" });
    expect(await rs.json()).toEqual([["b"], ["c"]]);
    const tsv = await client.query({ query: `SELECT id, name FROM ${db}.events ORDER BY id LIMIT 1`, format: "TabSeparated" });
    expect(await tsv.text()).toBe("1\ta\n");
    const csv = await client.query({ query: `SELECT id, name FROM ${db}.events ORDER BY id LIMIT 1`, format: "CSV" });
    expect(await csv.text()).toBe('1,"a"\n');
    const json = await client.query({ query: `SELECT id FROM ${db}.events ORDER BY id`, format: "JSON" });
    expect((await json.json<{ id: number }>()).data).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it("reports the rows an INSERT ... SELECT or VALUES wrote in X-ClickHouse-Summary, its parameters bound once", async () => {
    await client.command({ query: `CREATE TABLE ${db}.selected (id UInt64, s String) ENGINE = MergeTree ORDER BY id` });
    const odd = "it's a\ttab\\";
    const sel = await client.command({
      query: `INSERT INTO ${db}.selected SELECT number, {s:String} FROM numbers({n:UInt32}) WHERE number % 2 = 0`,
      query_params: { n: 10, s: odd },
    });
    expect(sel.summary).toMatchObject({ written_rows: "5", read_rows: "5" });
    expect(Number(sel.summary?.written_bytes)).toBeGreaterThan(0);
    const values = await client.command({ query: `INSERT INTO ${db}.selected VALUES (100, 'v'), (101, 'w')` });
    expect(values.summary?.written_rows).toBe("2");
    const none = await client.command({ query: `INSERT INTO ${db}.selected SELECT number, 'x' FROM numbers(3) WHERE number > 5` });
    expect(none.summary?.written_rows).toBe("0");
    const rs = await client.query({ query: `SELECT count() AS c, countIf(s = {s:String}) AS odd FROM ${db}.selected`, query_params: { s: odd }, format: "JSONEachRow" });
    expect(await rs.json()).toEqual([{ c: "7", odd: "5" }]);
    // INSERTs with parameters run side by side, each with its own values.
    await client.command({ query: `CREATE TABLE ${db}.tagged (tag String, n UInt64) ENGINE = MergeTree ORDER BY n` });
    const tags = ["a", "b", "c", "d", "e"];
    const written = await Promise.all(
      tags.map((tag, i) => client.command({ query: `INSERT INTO ${db}.tagged SELECT {tag:String}, number FROM numbers({n:UInt32})`, query_params: { tag, n: 1000 * (i + 1) } })),
    );
    expect(written.map((w) => w.summary?.written_rows)).toEqual(["1000", "2000", "3000", "4000", "5000"]);
    const perTag = await client.query({ query: `SELECT tag, count() AS c FROM ${db}.tagged GROUP BY tag ORDER BY tag`, format: "JSONEachRow" });
    expect(await perTag.json()).toEqual(tags.map((tag, i) => ({ tag, c: String(1000 * (i + 1)) })));
    // A parameter bound for one INSERT is not left on the engine's connections for the next query.
    const unset = await Promise.all([1, 2, 3].map(() => clickhouseError(client.query({ query: "SELECT {n:UInt32} AS n", format: "JSONEachRow" }))));
    for (const err of unset) expect(err.type).toBe("UNKNOWN_QUERY_PARAMETER");
  });

  it("inserts through the query URL parameter with settings, and through exec with a values stream", async () => {
    await client.command({ query: `CREATE TABLE ${db}.urlins (id UInt32, ts DateTime) ENGINE = MergeTree ORDER BY id` });
    await client.insert({
      table: `${db}.urlins`,
      values: [{ id: 1, ts: "2024-01-02T03:04:05Z" }],
      format: "JSONEachRow",
      clickhouse_settings: { date_time_input_format: "best_effort" },
    });
    const { Readable } = await import("node:stream");
    await client.exec({ query: `INSERT INTO ${db}.urlins FORMAT CSV`, values: Readable.from(["2,2024-01-03 00:00:00\n"]) });
    const rs = await client.query({ query: `SELECT id, toString(ts) AS ts FROM ${db}.urlins ORDER BY id`, format: "JSONEachRow" });
    expect(await rs.json()).toEqual([
      { id: 1, ts: "2024-01-02 03:04:05" },
      { id: 2, ts: "2024-01-03 00:00:00" },
    ]);
  });

  it("takes a multi-megabyte Parquet body (a format read by seeking) with columns matched by name", async () => {
    await client.command({ query: `CREATE TABLE ${db}.pq (s String, n UInt64) ENGINE = MergeTree ORDER BY n` });
    const out = await client.exec({ query: "SELECT number AS n, toString(cityHash64(number)) AS s FROM numbers(200000) FORMAT Parquet" });
    const chunks: Buffer[] = [];
    for await (const chunk of out.stream) chunks.push(chunk as Buffer);
    const parquet = Buffer.concat(chunks);
    expect(parquet.length).toBeGreaterThan(2_000_000);
    const { Readable } = await import("node:stream");
    const res = await client.exec({ query: `INSERT INTO ${db}.pq FORMAT Parquet`, values: Readable.from([parquet]) });
    for await (const chunk of res.stream) void chunk;
    const rs = await client.query({ query: `SELECT count() AS c, sum(n) AS total, countIf(s = toString(cityHash64(n))) AS good FROM ${db}.pq`, format: "JSONEachRow" });
    expect(await rs.json()).toEqual([{ c: "200000", total: "19999900000", good: "200000" }]);
  });
});

describe("clickhouse front: errors like a server", () => {
  it("fails a malformed insert with its ClickHouse code and type", async () => {
    await client.command({ query: `CREATE TABLE IF NOT EXISTS ${db}.strict (id UInt32, name String) ENGINE = MergeTree ORDER BY id` });
    const err = await clickhouseError(client.insert({ table: `${db}.strict`, values: [{ id: "not a number", name: "x" }], format: "JSONEachRow" }));
    expect(err.type).toBe("CANNOT_PARSE_INPUT_ASSERTION_FAILED");
    expect(err.code).toBe("27");
    const count = await client.query({ query: `SELECT count() AS c FROM ${db}.strict`, format: "JSONEachRow" });
    expect(await count.json()).toEqual([{ c: "0" }]);
  });

  it("answers unknown tables with 404 UNKNOWN_TABLE and syntax errors with 400", async () => {
    const missing = await clickhouseError(client.query({ query: `SELECT * FROM ${db}.nope` }));
    expect(missing.type).toBe("UNKNOWN_TABLE");
    expect(missing.code).toBe("60");
    const auth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const res404 = await fetch(url, { method: "POST", headers: { Authorization: auth }, body: `SELECT * FROM ${db}.nope` });
    expect(res404.status).toBe(404);
    expect(res404.headers.get("x-clickhouse-exception-code")).toBe("60");
    const res400 = await fetch(url, { method: "POST", headers: { Authorization: auth }, body: "SELEC 1" });
    expect(res400.status).toBe(400);
    expect(await res400.text()).toMatch(/^Code: 62\. DB::Exception: Syntax error.*\(SYNTAX_ERROR\) \(version 26\.\d/s);
    const multi = await fetch(url, { method: "POST", headers: { Authorization: auth }, body: "SELECT 1; SELECT 2" });
    expect(multi.status).toBe(400);
  });

  it("rejects a wrong password with 403 and AUTHENTICATION_FAILED", async () => {
    const bad = createClient({ url, username, password: `${password}-wrong` });
    try {
      const err = await clickhouseError(bad.query({ query: "SELECT 1" }));
      expect(err.type).toBe("AUTHENTICATION_FAILED");
      expect(err.code).toBe("516");
    } finally {
      await bad.close();
    }
    const res = await fetch(url, { method: "POST", headers: { "X-ClickHouse-User": username, "X-ClickHouse-Key": "nope" }, body: "SELECT 1" });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-clickhouse-exception-code")).toBe("516");
    expect(await res.text()).toMatch(new RegExp(`^Code: 516\\. DB::Exception: ${username}: Authentication failed: password is incorrect, or there is no user with such name\\. \\(AUTHENTICATION_FAILED\\) \\(version 26\\.`));
  });
});

describe("clickhouse front: protocol", () => {
  it("answers /ping and GET / with Ok.", async () => {
    for (const path of ["/ping", "/"]) {
      const res = await fetch(new URL(path, url));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("Ok.\n");
    }
  });

  it("accepts gzip request bodies and sends gzip responses when asked", async () => {
    const gz = createClient({ url, username, password, compression: { request: true, response: true } });
    try {
      await gz.command({ query: `CREATE TABLE ${db}.gz (id UInt32, s String) ENGINE = MergeTree ORDER BY id` });
      const values = Array.from({ length: 5000 }, (_, i) => ({ id: i, s: `row-${i}-${"x".repeat(50)}` }));
      await gz.insert({ table: `${db}.gz`, values, format: "JSONEachRow" });
      const rs = await gz.query({ query: `SELECT count() AS c, sum(length(s)) AS l FROM ${db}.gz`, format: "JSONEachRow" });
      expect(await rs.json()).toEqual([{ c: "5000", l: String(values.reduce((n, v) => n + v.s.length, 0)) }]);
    } finally {
      await gz.close();
    }
    const auth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const raw = await fetch(`${url}/?enable_http_compression=1`, { method: "POST", headers: { Authorization: auth, "Accept-Encoding": "gzip" }, body: "SELECT number FROM numbers(1000) FORMAT TSV" });
    expect(raw.headers.get("content-encoding")).toBe("gzip");
    expect((await raw.text()).split("\n").length).toBe(1001);
  });

  it("decodes zstd request bodies of several frames, and refuses a corrupt one with ZSTD_DECODER_FAILED", async () => {
    await client.command({ query: `CREATE TABLE ${db}.zs (id UInt32, s String) ENGINE = MergeTree ORDER BY id` });
    // The engine makes the frames (Node 20 cannot): two files, sent back to back as one body.
    const dir = mkdtempSync(join(tmpdir(), "front-zstd-"));
    try {
      const frames: Buffer[] = [];
      for (const [i, from] of [0, 1000].entries()) {
        const path = join(dir, `part-${i}.json.zst`);
        await client.command({ query: `INSERT INTO FUNCTION file('${path}', 'JSONEachRow', 'id UInt32, s String', 'zstd') SELECT number, repeat('z', number % 50) FROM numbers(${from}, 1000)` });
        frames.push(readFileSync(path));
      }
      const { Readable } = await import("node:stream");
      const send = (body: Buffer) => client.exec({ query: `INSERT INTO ${db}.zs FORMAT JSONEachRow`, values: Readable.from([body]), http_headers: { "Content-Encoding": "zstd" } });
      const res = await send(Buffer.concat(frames));
      for await (const chunk of res.stream) void chunk;
      expect(res.summary?.written_rows).toBe("2000");
      const rs = await client.query({ query: `SELECT count() AS c, sum(length(s)) AS l FROM ${db}.zs`, format: "JSONEachRow" });
      expect(await rs.json()).toEqual([{ c: "2000", l: String(2 * 20 * 1225) }]);
      const corrupt = Buffer.concat([(frames[0] as Buffer).subarray(0, 40), Buffer.alloc(64, 0xff)]);
      expect((await clickhouseError(send(corrupt))).type).toBe("ZSTD_DECODER_FAILED");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("restores a server's defaults instead of clickhouse-local's", async () => {
    await client.command({ query: `CREATE TABLE ${db}.dt (ts DateTime('UTC'), n Int64) ENGINE = MergeTree ORDER BY ts` });
    const err = await clickhouseError(client.insert({ table: `${db}.dt`, values: [{ ts: "2024-01-02T03:04:05Z", n: 1 }], format: "JSONEachRow" }));
    expect(err.type).toMatch(/^CANNOT_PARSE/);
    await client.insert({ table: `${db}.dt`, values: [{ ts: "2024-01-02 03:04:05", n: "9007199254740993" }], format: "JSONEachRow" });
    const rs = await client.query({ query: `SELECT n FROM ${db}.dt`, format: "JSONEachRow" });
    expect(await rs.json()).toEqual([{ n: "9007199254740993" }]);
    const settings = await client.query({
      query: "SELECT name, value FROM system.settings WHERE name IN ('async_insert', 'date_time_input_format', 'output_format_json_quote_64bit_integers', 'mutations_sync', 'implicit_select') ORDER BY name",
      format: "JSONEachRow",
    });
    expect(await settings.json()).toEqual([
      { name: "async_insert", value: "0" },
      { name: "date_time_input_format", value: "basic" },
      { name: "implicit_select", value: "0" },
      { name: "mutations_sync", value: "0" },
      { name: "output_format_json_quote_64bit_integers", value: "1" },
    ]);
  });

  it("applies URL settings to one query only and keeps SET and temporary tables per session", async () => {
    const one = await client.query({ query: "SELECT toString(getSetting('max_threads')) AS m", format: "JSONEachRow", clickhouse_settings: { max_threads: 1 } });
    expect(await one.json()).toEqual([{ m: "1" }]);
    const after = await client.query({ query: "SELECT getSetting('date_time_input_format') AS f", format: "JSONEachRow" });
    expect(await after.json()).toEqual([{ f: "basic" }]);

    const session_id = `s_${suffix}`;
    await client.command({ query: "SET date_time_input_format = 'best_effort'", session_id });
    await client.command({ query: "CREATE TEMPORARY TABLE tmp (x UInt8)", session_id });
    await client.command({ query: "INSERT INTO tmp VALUES (7)", session_id });
    const inSession = await client.query({ query: "SELECT getSetting('date_time_input_format') AS f, (SELECT sum(x) FROM tmp) AS s", format: "JSONEachRow", session_id });
    expect(await inSession.json()).toEqual([{ f: "best_effort", s: "7" }]);
    const outside = await client.query({ query: "SELECT getSetting('date_time_input_format') AS f", format: "JSONEachRow" });
    expect(await outside.json()).toEqual([{ f: "basic" }]);
    const noTmp = await clickhouseError(client.query({ query: "SELECT * FROM tmp" }));
    expect(noTmp.type).toBe("UNKNOWN_TABLE");
  });

  it("queues concurrent requests and keeps /ping responsive during a long query", async () => {
    // About 2 s without burning CPU (sleepEachRow), long enough to overlap the requests below.
    const long = client.query({ query: "SELECT sum(sleepEachRow(0.5)) AS s, count() AS c FROM numbers(4)", format: "JSONEachRow" }).then((r) => r.json());
    const t0 = Date.now();
    expect(await pingFront(url, 2000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    const many = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const rs = await client.query({ query: "SELECT toUInt32({i:UInt32} * 2) AS v", query_params: { i }, format: "JSONEachRow" });
        return (await rs.json<{ v: number }>())[0]?.v;
      }),
    );
    expect(many).toEqual(Array.from({ length: 24 }, (_, i) => i * 2));
    expect(await long).toEqual([{ s: "0", c: "4" }]);
  });
});

describe("clickhouse front: users and grants", () => {
  // chDB cannot store SQL-created users (see clickhouse-front/access.ts): the front keeps them,
  // authenticates against them and enforces privileges like a server (clickhouse-front-access.test.ts
  // covers SELECT, DDL, roles, readonly). Known gap: system.users / SHOW GRANTS do not list them.
  const user = `pipe_${suffix}`;
  const role = `pipe_role_${suffix}`;

  afterAll(async () => {
    await client.command({ query: `DROP USER IF EXISTS ${user}` });
    await client.command({ query: `DROP ROLE IF EXISTS ${role}` });
  });

  it("creates a user with an INSERT-only role; the user authenticates and may insert only into its table", async () => {
    await client.command({ query: `CREATE TABLE ${db}.dest (id UInt32) ENGINE = MergeTree ORDER BY id` });
    await client.command({ query: `CREATE TABLE ${db}.other (id UInt32) ENGINE = MergeTree ORDER BY id` });
    await client.command({ query: `CREATE USER IF NOT EXISTS ${user} IDENTIFIED WITH sha256_password BY 'pipe-secret'` });
    await client.command({ query: `CREATE ROLE IF NOT EXISTS ${role}` });
    await client.command({ query: `GRANT INSERT, SELECT ON ${db}.dest TO ${role}` });
    await client.command({ query: `GRANT ${role} TO ${user}` });

    const dup = await clickhouseError(client.command({ query: `CREATE USER ${user} IDENTIFIED BY 'x'` }));
    expect(dup.type).toBe("ACCESS_ENTITY_ALREADY_EXISTS");
    const noRole = await clickhouseError(client.command({ query: `GRANT missing_role_${suffix} TO ${user}` }));
    expect(noRole.type).toBe("UNKNOWN_ROLE");

    const pipe = createClient({ url, username: user, password: "pipe-secret" });
    try {
      await pipe.insert({ table: `${db}.dest`, values: [{ id: 1 }], format: "JSONEachRow" });
      const denied = await clickhouseError(pipe.insert({ table: `${db}.other`, values: [{ id: 1 }], format: "JSONEachRow" }));
      expect(denied.type).toBe("ACCESS_DENIED");
      const noAdmin = await clickhouseError(pipe.command({ query: `CREATE USER x_${suffix}` }));
      expect(noAdmin.type).toBe("ACCESS_DENIED");
    } finally {
      await pipe.close();
    }
    const wrong = createClient({ url, username: user, password: "nope" });
    try {
      expect((await clickhouseError(wrong.query({ query: "SELECT 1" }))).type).toBe("AUTHENTICATION_FAILED");
    } finally {
      await wrong.close();
    }
    await client.command({ query: `DROP USER ${user}` });
    const gone = createClient({ url, username: user, password: "pipe-secret" });
    try {
      expect((await clickhouseError(gone.query({ query: "SELECT 1" }))).type).toBe("AUTHENTICATION_FAILED");
    } finally {
      await gone.close();
    }
    const rows = await client.query({ query: `SELECT count() AS c FROM ${db}.dest`, format: "JSONEachRow" });
    expect(await rows.json()).toEqual([{ c: "1" }]);
  });
});

describe("clickhouse front: persistence", () => {
  // A private front (own port and data dir) so killing it does not disturb suites using the shared one.
  let dir: string;
  let port: number;
  let child: ChildProcess | undefined;
  const adminPassword = "restart-secret";

  async function startPrivateFront(): Promise<void> {
    const { cmd, args } = frontCommand();
    child = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, ...frontEnv({ dir, port, user: "default", password: adminPassword }) }, stdio: "ignore" });
    await waitFor(`private front on port ${port}`, () => pingFront(`http://127.0.0.1:${port}`), 60_000, 100);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ch-front-"));
    port = await freePort();
    await startPrivateFront();
  });

  afterAll(() => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps tables, rows and users across a kill -9 and restart", async () => {
    const c1 = createClient({ url: `http://127.0.0.1:${port}`, username: "default", password: adminPassword });
    await c1.command({ query: "CREATE TABLE kept (id UInt32, s String) ENGINE = MergeTree ORDER BY id" });
    await c1.insert({ table: "kept", values: [{ id: 1, s: "one" }, { id: 2, s: "two" }], format: "JSONEachRow" });
    await c1.command({ query: "CREATE USER survivor IDENTIFIED BY 'still-here'" });
    await c1.command({ query: "GRANT INSERT ON default.kept TO survivor" });
    await c1.close();

    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child?.kill("SIGKILL");
    await exited;
    expect(await pingFront(`http://127.0.0.1:${port}`, 500)).toBe(false);
    await startPrivateFront();

    const c2 = createClient({ url: `http://127.0.0.1:${port}`, username: "default", password: adminPassword });
    const rs = await c2.query({ query: "SELECT id, s FROM kept ORDER BY id", format: "JSONEachRow" });
    expect(await rs.json()).toEqual([
      { id: 1, s: "one" },
      { id: 2, s: "two" },
    ]);
    await c2.close();
    const survivor = createClient({ url: `http://127.0.0.1:${port}`, username: "survivor", password: "still-here" });
    await survivor.insert({ table: "kept", values: [{ id: 3, s: "three" }], format: "JSONEachRow" });
    await survivor.close();
  });
});
