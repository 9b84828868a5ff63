import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type ClickHouseClient, ClickHouseError } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frontCommand, frontEnv, pingFront } from "../stack/clickhouse-front/launch.js";
import { repoRoot } from "../stack/env.js";
import { freePort, waitFor } from "../stack/process.js";

// A private front runs this file's code (the shared one may run an older build) and lets the
// test create users without touching other suites.
let dir: string;
let url: string;
let child: ChildProcess | undefined;
let admin: ClickHouseClient;
const adminPassword = "access-secret";
const db = "acc";

async function clickhouseError(p: Promise<unknown>): Promise<ClickHouseError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClickHouseError) return err;
    throw err;
  }
  throw new Error("expected the call to fail with a ClickHouse error");
}

function as(user: string, password = "pw"): ClickHouseClient {
  return createClient({ url, username: user, password });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ch-front-access-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const { cmd, args } = frontCommand();
  child = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, ...frontEnv({ dir, port, user: "default", password: adminPassword }) }, stdio: "ignore" });
  await waitFor(`private front on port ${port}`, () => pingFront(url), 60_000, 100);
  admin = createClient({ url, username: "default", password: adminPassword });
  await admin.command({ query: `CREATE DATABASE ${db}` });
  for (const t of ["t", "t_clickpipes_error", "clickpipes_log", "clickpipes_state", "other"]) {
    await admin.command({ query: `CREATE TABLE ${db}.${t} (pipe String, n UInt32) ENGINE = MergeTree ORDER BY pipe` });
  }
}, 90_000);

afterAll(async () => {
  await admin.close();
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("clickhouse front: privileges like a server", () => {
  it("destinationOnly grants: INSERT and system.columns yes; CREATE, ALTER, DROP, SELECT refused with 497", async () => {
    await admin.command({ query: "CREATE USER IF NOT EXISTS dest_only IDENTIFIED WITH sha256_password BY 'pw'" });
    for (const g of [`GRANT INSERT ON ${db}.t TO dest_only`, `GRANT INSERT ON ${db}.\`t_clickpipes_error\` TO dest_only`, `GRANT INSERT ON ${db}.clickpipes_log TO dest_only`, `GRANT INSERT, SELECT ON ${db}.clickpipes_state TO dest_only`]) {
      await admin.command({ query: g });
    }
    const u = as("dest_only");
    try {
      await u.insert({ table: `${db}.t`, values: [{ pipe: "p", n: 1 }], format: "JSONEachRow" });
      const cols = await u.query({ query: "SELECT name, type FROM system.columns WHERE database = {d:String} AND table = {t:String} ORDER BY position", query_params: { d: db, t: "t" }, format: "JSONEachRow" });
      expect(await cols.json()).toEqual([{ name: "pipe", type: "String" }, { name: "n", type: "UInt32" }]);
      const state = await u.query({ query: `SELECT count() AS c FROM ${db}.clickpipes_state`, format: "JSONEachRow" });
      expect(await state.json()).toEqual([{ c: "0" }]);
      const refused = [
        `CREATE TABLE IF NOT EXISTS ${db}.t (pipe String) ENGINE = MergeTree ORDER BY pipe`,
        `ALTER TABLE ${db}.t ADD COLUMN extra String`,
        `DROP TABLE ${db}.t`,
        `SELECT * FROM ${db}.t`,
        `SELECT count() FROM (SELECT n FROM ${db}.t)`,
        `RENAME TABLE ${db}.t TO ${db}.t2`,
      ];
      for (const query of refused) {
        const err = await clickhouseError(u.command({ query }));
        expect(err.code, query).toBe("497");
        expect(err.type).toBe("ACCESS_DENIED");
      }
      const create = await clickhouseError(u.command({ query: `CREATE TABLE IF NOT EXISTS ${db}.t (pipe String) ENGINE = MergeTree ORDER BY pipe` }));
      expect(create.message.trim()).toBe(`dest_only: Not enough privileges. To execute this query, it's necessary to have the grant CREATE TABLE ON ${db}.t.`);
      const other = await clickhouseError(u.insert({ table: `${db}.other`, values: [{ pipe: "p", n: 1 }], format: "JSONEachRow" }));
      expect(other.type).toBe("ACCESS_DENIED");
    } finally {
      await u.close();
    }
  });

  it("filters system.tables, system.columns and SHOW TABLES to tables the user holds a grant on", async () => {
    await admin.command({ query: "CREATE USER IF NOT EXISTS seer IDENTIFIED BY 'pw'" });
    await admin.command({ query: `GRANT SELECT ON ${db}.other TO seer` });
    const u = as("seer");
    try {
      const tables = await u.query({ query: "SELECT name FROM system.tables WHERE database = {d:String}", query_params: { d: db }, format: "JSONEachRow" });
      expect(await tables.json()).toEqual([{ name: "other" }]);
      const cols = await u.query({ query: `SELECT DISTINCT table FROM system.columns WHERE database = '${db}'`, format: "JSONEachRow" });
      expect(await cols.json()).toEqual([{ table: "other" }]);
      const show = await u.query({ query: `SHOW TABLES FROM ${db}`, format: "JSONEachRow" });
      expect(await show.json()).toEqual([{ name: "other" }]);
      const one = await u.query({ query: "SELECT dummy FROM system.one", format: "JSONEachRow" });
      expect(await one.json()).toEqual([{ dummy: 0 }]);
    } finally {
      await u.close();
    }
  });

  it("grants through roles and wildcards; a revoke applies to the next query", async () => {
    await admin.command({ query: "CREATE USER IF NOT EXISTS via_role IDENTIFIED BY 'pw'" });
    await admin.command({ query: "CREATE ROLE IF NOT EXISTS reader" });
    await admin.command({ query: `GRANT SELECT ON ${db}.* TO reader` });
    await admin.command({ query: "GRANT reader TO via_role" });
    const u = as("via_role");
    try {
      const rs = await u.query({ query: `SELECT count() AS c FROM ${db}.other`, format: "JSONEachRow" });
      expect(await rs.json()).toEqual([{ c: "0" }]);
      expect((await clickhouseError(u.command({ query: `INSERT INTO ${db}.other VALUES ('x', 1)` }))).type).toBe("ACCESS_DENIED");
      await admin.command({ query: `REVOKE SELECT ON ${db}.other FROM reader` });
      expect((await clickhouseError(u.query({ query: `SELECT count() FROM ${db}.other` }))).type).toBe("ACCESS_DENIED");
      const t = await u.query({ query: `SELECT count() AS c FROM ${db}.t`, format: "JSONEachRow" });
      expect(await t.json()).toEqual([{ c: "1" }]);
      await admin.command({ query: "GRANT ALL ON *.* TO via_role" });
      await u.command({ query: `CREATE TABLE ${db}.made (a UInt8) ENGINE = MergeTree ORDER BY a` });
      await u.command({ query: `DROP TABLE ${db}.made` });
    } finally {
      await u.close();
    }
  });

  it("refuses writes for readonly users and over GET; refuses unknown URL settings", async () => {
    await admin.command({ query: "CREATE USER IF NOT EXISTS ro IDENTIFIED BY 'pw' SETTINGS readonly = 1" });
    await admin.command({ query: `GRANT SELECT, INSERT ON ${db}.other TO ro` });
    const u = as("ro");
    try {
      const rs = await u.query({ query: `SELECT count() AS c FROM ${db}.other`, format: "JSONEachRow" });
      expect(await rs.json()).toEqual([{ c: "0" }]);
      const ins = await clickhouseError(u.command({ query: `INSERT INTO ${db}.other VALUES ('x', 1)` }));
      expect([ins.code, ins.type]).toEqual(["164", "READONLY"]);
      const set = await clickhouseError(u.query({ query: "SELECT 1", clickhouse_settings: { max_threads: 1 } }));
      expect(set.type).toBe("READONLY");
    } finally {
      await u.close();
    }
    const auth = `Basic ${Buffer.from(`default:${adminPassword}`).toString("base64")}`;
    const get = await fetch(`${url}/?query=${encodeURIComponent(`CREATE TABLE ${db}.viaget (a UInt8) ENGINE = MergeTree ORDER BY a`)}`, { headers: { Authorization: auth } });
    expect(get.headers.get("x-clickhouse-exception-code")).toBe("164");
    expect(await get.text()).toMatch(/method GET implies readonly/);
    const getSelect = await fetch(`${url}/?query=${encodeURIComponent("SELECT 1")}&max_threads=2`, { headers: { Authorization: auth } });
    expect(await getSelect.text()).toBe("1\n");
    const unknown = await fetch(`${url}/?no_such_setting_xyz=1`, { method: "POST", headers: { Authorization: auth }, body: "SELECT 1" });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-clickhouse-exception-code")).toBe("115");
  });
});
