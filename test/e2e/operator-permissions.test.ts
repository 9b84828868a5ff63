import type { ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseClickPipe } from "../../src/api/index.js";
import { quoteIdent } from "../../src/clickhouse/client.js";
import { checkpointsSql, stateTotalsSql } from "../../src/clickhouse/ddl.js";
import { checkPipeTables, createPipeTables, pipeTableSpecs } from "../../src/clickhouse/pipe-tables.js";
import { createUserSql, dropUserSql, grantsSql } from "../../src/clickhouse/users.js";
import { ClickHouseOps } from "../../src/operator/clickhouse-ops.js";
import { queryRows } from "../helpers/stack-clients.js";
import {
  adminSecret,
  applyCrd,
  clickhouse,
  condition,
  count,
  createNamespace,
  createTopic,
  deleteNamespace,
  getPipe,
  kubectl,
  kubectlJson,
  OperatorProcess,
  produce,
  suffix,
  waitFor,
} from "./operator-harness.js";

/**
 * Who runs DDL and with which rights (docs/security.md): the operator creates and migrates
 * every table with the admin credentials before any consumer starts, and each pipe's own
 * user ingests with exactly the grants of its `permissions` mode. Each run writes into a
 * database of its own, so the state table migration can be shown on an earlier-release table.
 */
const env = inject("stackEnv");
const id = suffix();
const db = `perm_${id}`;
let ch: ClickHouseClient;

/** An earlier release's clickpipes_state: position was `SimpleAggregateFunction(max, Int64)`. */
const EARLIER_STATE = (database: string): string => `CREATE TABLE ${quoteIdent(database)}.clickpipes_state
(pipe String, source_position String, rows SimpleAggregateFunction(sum, UInt64), bytes SimpleAggregateFunction(sum, UInt64),
 record_errors SimpleAggregateFunction(sum, UInt64), batches SimpleAggregateFunction(sum, UInt64), position SimpleAggregateFunction(max, Int64),
 lag SimpleAggregateFunction(anyLast, Int64), last_insert_time SimpleAggregateFunction(max, DateTime64(3, 'UTC')))
ENGINE = AggregatingMergeTree ORDER BY (pipe, source_position)`;

const EARLIER_ROWS = `('old/kafka', 't/0', 10, 100, 1, 1, 9, 5, '2026-01-01 00:00:01.000'), ('old/kafka', 't/0', 20, 200, 0, 1, 29, 3, '2026-01-01 00:00:02.000'), ('old/kafka', 't/1', 5, 50, 0, 1, 4, 0, '2026-01-01 00:00:03.000')`;

interface Totals {
  pipe: string;
  total_rows: string;
  total_bytes: string;
  total_record_errors: string;
}

async function totalsOf(client: ClickHouseClient, database: string, pipe: string): Promise<Totals | undefined> {
  return (await queryRows<Totals>(client, stateTotalsSql(database))).find((t) => t.pipe === pipe);
}

async function checkpointsOf(client: ClickHouseClient, database: string, pipe: string): Promise<Record<string, string>> {
  const result = await client.query({ query: checkpointsSql(database), query_params: { pipe }, format: "JSONEachRow" });
  return Object.fromEntries((await result.json<{ stream: string; position: string }>()).map((r) => [r.stream, r.position]));
}

function manifest(o: { name: string; namespace: string; topic: string; table: string; permissions?: object }): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      source: { kafka: { brokers: env.KAFKA_BROKERS, topics: o.topic, format: "JSONEachRow" } },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: db,
        table: o.table,
        columns: [
          { name: "id", type: "UInt64" },
          { name: "msg", type: "String" },
        ],
        tableDefinition: { sortingKey: ["id"] },
        ...o.permissions,
      },
      scaling: { replicas: 1, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

beforeAll(async () => {
  ch = clickhouse(env);
  await ch.command({ query: `CREATE DATABASE ${quoteIdent(db)}` });
});

afterAll(async () => {
  await ch?.command({ query: `DROP DATABASE IF EXISTS ${quoteIdent(db)}` });
  await ch?.close();
});

describe("pipe tables on the ClickHouse front", () => {
  const mdb = `${db}_mig`;
  const spec = parseClickPipe(JSON.parse(manifest({ name: "events", namespace: "tables", topic: "t", table: "events" })) as unknown).spec;
  const specs = pipeTableSpecs({ ...spec, destination: { ...spec.destination, database: mdb } }, ["events"]);

  beforeAll(async () => {
    await ch.command({ query: `CREATE DATABASE ${quoteIdent(mdb)}` });
  });

  afterAll(async () => {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${quoteIdent(mdb)}` });
  });

  it("migrates an earlier clickpipes_state in place, keeping a Kafka pipe's counters, lag and positions, then takes String positions", async () => {
    await ch.command({ query: EARLIER_STATE(mdb) });
    await ch.command({ query: `INSERT INTO ${quoteIdent(mdb)}.clickpipes_state VALUES ${EARLIER_ROWS}` });
    const outcomes = await createPipeTables(ch, specs);
    expect(outcomes).toEqual([expect.objectContaining({ ok: true, table: "events" })]);
    expect(await count(ch, `SELECT type = 'SimpleAggregateFunction(anyLast, String)' FROM system.columns WHERE database = '${mdb}' AND table = 'clickpipes_state' AND name = 'position'`)).toBe(1);
    expect(await totalsOf(ch, mdb, "old/kafka")).toMatchObject({ total_rows: "35", total_bytes: "350", total_record_errors: "1" });
    expect(await checkpointsOf(ch, mdb, "old/kafka")).toEqual({ "t/0": "29", "t/1": "4" });

    await ch.insert({
      table: `${mdb}.clickpipes_state`,
      values: [{ pipe: "old/kafka", source_position: "t/0", rows: 7, bytes: 70, record_errors: 0, batches: 1, position: "35", lag: 1, last_insert_time: "2026-01-01 00:00:04.000" }],
      format: "JSONEachRow",
    });
    await ch.insert({
      table: `${mdb}.clickpipes_state`,
      values: [{ pipe: "kinesis/p", source_position: "shardId-000000000000", rows: 1, bytes: 10, record_errors: 0, batches: 1, position: "49590338271490256608559692538361571095921575989136588898", lag: 0, last_insert_time: "2026-01-01 00:00:05.000" }],
      format: "JSONEachRow",
    });
    const before = await checkpointsOf(ch, mdb, "old/kafka");
    await ch.command({ query: `OPTIMIZE TABLE ${quoteIdent(mdb)}.clickpipes_state FINAL` });
    expect(await checkpointsOf(ch, mdb, "old/kafka")).toEqual(before);
    expect(before).toEqual({ "t/0": "35", "t/1": "4" });
    expect(await totalsOf(ch, mdb, "old/kafka")).toMatchObject({ total_rows: "42", total_bytes: "420" });
    expect(await checkpointsOf(ch, mdb, "kinesis/p")).toEqual({ "shardId-000000000000": "49590338271490256608559692538361571095921575989136588898" });
    // Idempotent: a second setup finds nothing to migrate.
    expect(await createPipeTables(ch, specs)).toEqual(outcomes);
  });

  it("lets a pipe user with the destinationOnly grants check its tables, read its checkpoints and insert, and nothing more", async () => {
    await createPipeTables(ch, specs);
    const user = `perm_user_${id}`;
    const password = `pw-${id}`;
    await ch.command({ query: createUserSql(user, password, mdb) });
    for (const sql of grantsSql({ kind: "destinationOnly" }, mdb, ["events"], user)) await ch.command({ query: sql });
    const asPipe = clickhouse(env, user, password);
    try {
      expect(await checkPipeTables(asPipe, specs)).toEqual([{ ok: true, database: mdb, table: "events", columns: [{ name: "id", type: "UInt64" }, { name: "msg", type: "String" }] }]);
      expect(await checkpointsOf(asPipe, mdb, "old/kafka")).toEqual({ "t/0": "35", "t/1": "4" });
      await asPipe.insert({ table: `${mdb}.events`, values: [{ id: 1, msg: "a" }], format: "JSONEachRow" });
      for (const denied of [`CREATE TABLE IF NOT EXISTS ${mdb}.events (id UInt64) ENGINE = MergeTree ORDER BY id`, `SELECT count() FROM ${mdb}.events`, `ALTER TABLE ${mdb}.events ADD COLUMN x String`, `DROP TABLE ${mdb}.events`]) {
        await expect(asPipe.command({ query: denied }), denied).rejects.toThrow(/ACCESS_DENIED|Not enough privileges/);
      }
    } finally {
      await asPipe.close();
      await ch.command({ query: dropUserSql(user) });
    }
  });
});

describe("the operator's admin user with exactly the privileges docs/security.md lists", () => {
  const adb = `${db}_adm`;
  const admin = `perm_admin_${id}`;
  const role = `perm_role_${id}`;
  const ops = new ClickHouseOps();
  const endpoint = { url: env.CLICKHOUSE_URL ?? "", username: admin, password: `adm-${id}` };
  const q = (name: string): string => quoteIdent(name);
  const pipeOf = (name: string, permissions: object): Parameters<ClickHouseOps["setup"]>[0] =>
    parseClickPipe(JSON.parse(manifest({ name: name.replace("_", "-"), namespace: "adm", topic: "t", table: name, permissions })) as unknown);
  const inDb = <T extends ReturnType<typeof pipeOf>>(pipe: T): T => ({ ...pipe, spec: { ...pipe.spec, destination: { ...pipe.spec.destination, database: adb } } });

  beforeAll(async () => {
    await ch.command({ query: `CREATE DATABASE ${q(adb)}` });
    await ch.command({ query: `CREATE ROLE ${q(role)}` });
    for (const sql of [
      createUserSql(admin, endpoint.password),
      `GRANT CREATE TABLE ON ${q(adb)}.* TO ${q(admin)}`,
      `GRANT ALTER ADD COLUMN, ALTER MODIFY COLUMN ON ${q(adb)}.* TO ${q(admin)}`,
      `GRANT SELECT ON ${q(adb)}.* TO ${q(admin)}`,
      `GRANT CREATE USER, ALTER USER, DROP USER ON *.* TO ${q(admin)}`,
      `GRANT INSERT ON ${q(adb)}.* TO ${q(admin)} WITH GRANT OPTION`,
      `GRANT SELECT ON ${q(adb)}.clickpipes_state TO ${q(admin)} WITH GRANT OPTION`,
      `GRANT ${q(role)} TO ${q(admin)} WITH ADMIN OPTION`,
    ]) {
      await ch.command({ query: sql });
    }
  });

  afterAll(async () => {
    await ops.close();
    for (const sql of [`DROP USER IF EXISTS ${q(admin)}`, `DROP ROLE IF EXISTS ${q(role)}`, `DROP DATABASE IF EXISTS ${q(adb)}`]) await ch.command({ query: sql });
  });

  it("sets up destinationOnly and customRole pipes, and a full pipe once it holds ALL WITH GRANT OPTION", async () => {
    const destOnly = inDb(pipeOf("adm_dest", {}));
    expect(await ops.setup(destOnly, endpoint, "pw1")).toMatchObject({ ok: true });
    expect(await ops.setup(inDb(pipeOf("adm_role", { permissions: "customRole", customRole: role })), endpoint, "pw2")).toMatchObject({ ok: true });
    // The state table of an earlier release is migrated with ALTER MODIFY COLUMN alone.
    await ch.command({ query: `DROP TABLE ${q(adb)}.clickpipes_state` });
    await ch.command({ query: EARLIER_STATE(adb) });
    const full = inDb(pipeOf("adm_full", { permissions: "full" }));
    const refused = await ops.setup(full, endpoint, "pw3");
    expect(refused.ok).toBe(false);
    await ch.command({ query: `GRANT ALL ON ${q(adb)}.* TO ${q(admin)} WITH GRANT OPTION` });
    expect(await ops.setup(full, endpoint, "pw3")).toMatchObject({ ok: true });
    expect(await count(ch, `SELECT type = 'SimpleAggregateFunction(anyLast, String)' FROM system.columns WHERE database = '${adb}' AND table = 'clickpipes_state' AND name = 'position'`)).toBe(1);
    for (const pipe of [destOnly, full]) await ops.dropUser(pipe, endpoint);
    await ops.dropUser(inDb(pipeOf("adm_role", { permissions: "customRole", customRole: role })), endpoint);
  });
});

describe("operator: tables and permissions", () => {
  const ns = `op-perm-${id}`;
  const pipes = [
    { name: "dest-only", permissions: {} },
    { name: "full", permissions: { permissions: "full" } },
    { name: "custom", permissions: { permissions: "customRole", customRole: `cp_writer_${id}` } },
  ].map((p) => ({ ...p, namespace: ns, topic: `op-perm-${p.name}-${id}`, table: `${p.name.replace("-", "_")}_${id}` }));
  let operator: OperatorProcess;

  beforeAll(async () => {
    // An earlier release's state table holding a Kafka pipe's progress, for the operator to migrate.
    await ch.command({ query: EARLIER_STATE(db) });
    await ch.command({ query: `INSERT INTO ${quoteIdent(db)}.clickpipes_state VALUES ${EARLIER_ROWS}` });
    const custom = pipes[2]!;
    await ch.command({ query: `CREATE ROLE IF NOT EXISTS ${quoteIdent(`cp_writer_${id}`)}` });
    await ch.command({ query: `GRANT INSERT ON ${quoteIdent(db)}.${quoteIdent(custom.table)} TO ${quoteIdent(`cp_writer_${id}`)}` });
    await applyCrd(env);
    await createNamespace(env, ns);
    await adminSecret(env, ns);
    for (const p of pipes) await createTopic(env, p.topic, 1);
    operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "3" });
  });

  afterAll(async () => {
    await operator?.stop();
    await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--wait=false"]).catch(() => "");
    for (const p of pipes) await kubectl(env, ["-n", ns, "patch", "clickpipe", p.name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']).catch(() => "");
    await deleteNamespace(env, ns);
    await ch?.command({ query: `DROP ROLE IF EXISTS ${quoteIdent(`cp_writer_${id}`)}` });
  });

  it("creates every table, and migrates the state table, before the pipe's consumers start", async () => {
    for (const p of pipes) await kubectl(env, ["apply", "-f", "-"], manifest(p));
    for (const p of pipes) {
      await waitFor(`the Deployment of ${p.name}`, async () => (await kubectlJson(env, ["-n", ns, "get", "deployment", p.name])) !== undefined, 90_000, 250);
      const deployment = await kubectlJson<{ metadata: { creationTimestamp: string } }>(env, ["-n", ns, "get", "deployment", p.name]);
      const created = Date.parse(deployment!.metadata.creationTimestamp);
      const tables = await queryRows<{ name: string; modified: string }>(
        ch,
        `SELECT name, toUnixTimestamp(metadata_modification_time) AS modified FROM system.tables WHERE database = '${db}' AND name IN ('${p.table}', '${p.table}_clickpipes_error', 'clickpipes_log', 'clickpipes_state')`,
      );
      expect(tables.map((t) => t.name).sort(), p.name).toEqual([p.table, `${p.table}_clickpipes_error`, "clickpipes_log", "clickpipes_state"].sort());
      // Second resolution on both sides: a table made by the consumer would be later than its Deployment.
      for (const t of tables) expect(Number(t.modified) * 1000, `${p.name}: ${t.name}`).toBeLessThanOrEqual(created);
    }
    expect(await count(ch, `SELECT type = 'SimpleAggregateFunction(anyLast, String)' FROM system.columns WHERE database = '${db}' AND table = 'clickpipes_state' AND name = 'position'`)).toBe(1);
    expect(await totalsOf(ch, db, "old/kafka")).toMatchObject({ total_rows: "35", total_bytes: "350", total_record_errors: "1" });
  });

  it("ingests with the default destinationOnly grants, with full, and with a custom role", async () => {
    for (const p of pipes) await produce(env, p.topic, 0, 200);
    for (const p of pipes) {
      await waitFor(`200 rows through the ${p.name} pipe`, async () => (await count(ch, `SELECT uniqExact(id) FROM ${db}.${p.table}`)) === 200, 180_000, 1000);
      await waitFor(`${p.name}: status rows and Ready`, async () => {
        const pipe = await getPipe(env, ns, p.name);
        return (pipe?.status?.ingested?.rows ?? 0) >= 200 && condition(pipe, "Ready")?.status === "True";
      }, 60_000, 1000);
    }
  });

  it("gives the destinationOnly user no right to change or read the destination", async () => {
    const p = pipes[0]!;
    const secret = await kubectlJson<{ data: Record<string, string> }>(env, ["-n", ns, "get", "secret", `${p.name}-clickpipe-user`]);
    const user = Buffer.from(secret?.data.username ?? "", "base64").toString();
    const password = Buffer.from(secret?.data.password ?? "", "base64").toString();
    const asPipe = clickhouse(env, user, password);
    try {
      for (const denied of [`CREATE TABLE IF NOT EXISTS ${db}.${p.table}_x (id UInt64) ENGINE = MergeTree ORDER BY id`, `SELECT count() FROM ${db}.${p.table}`, `DROP TABLE ${db}.${p.table}`]) {
        await expect(asPipe.command({ query: denied }), denied).rejects.toThrow(/ACCESS_DENIED|Not enough privileges/);
      }
      expect(Object.keys(await checkpointsOf(asPipe, db, `${ns}/${p.name}`))).not.toHaveLength(0);
    } finally {
      await asPipe.close();
    }
  });

  it("takes rights away when a pipe's permissions are narrowed (full to destinationOnly), and keeps ingesting", async () => {
    const p = pipes[1]!;
    const credentials = async (): Promise<{ user: string; password: string; grants: string | undefined }> => {
      const secret = await kubectlJson<{ data: Record<string, string>; metadata: { annotations?: Record<string, string> } }>(env, ["-n", ns, "get", "secret", `${p.name}-clickpipe-user`]);
      const decode = (k: string): string => Buffer.from(secret?.data[k] ?? "", "base64").toString();
      return { user: decode("username"), password: decode("password"), grants: secret?.metadata.annotations?.["clickpipes.io/grants"] };
    };
    const before = await credentials();
    expect(before.grants).toBeDefined();
    const asPipe = clickhouse(env, before.user, before.password);
    try {
      // `full` is ALL on the database: the user may read its table.
      expect(await count(asPipe, `SELECT count() FROM ${db}.${p.table}`)).toBeGreaterThanOrEqual(200);
      await kubectl(env, ["apply", "-f", "-"], manifest({ ...p, permissions: {} }));
      await waitFor("the narrowed grants to be recorded", async () => (await credentials()).grants !== before.grants, 90_000, 1000);
      await expect(asPipe.query({ query: `SELECT count() FROM ${db}.${p.table}`, format: "JSONEachRow" })).rejects.toThrow(/ACCESS_DENIED|Not enough privileges/);
      await produce(env, p.topic, 200, 300);
      await waitFor("the records after the change", async () => (await count(ch, `SELECT uniqExact(id) FROM ${db}.${p.table}`)) === 300, 180_000, 1000);
    } finally {
      await asPipe.close();
    }
  });
});
