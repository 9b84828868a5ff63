import type { ClickHouseClient } from "@clickhouse/client";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dropDatabase, freshDatabase, pgAdmin } from "../integration/postgres-helpers.js";
import { adminSecret, applyCrd, clickhouse, condition, count, createNamespace, deleteNamespace, getPipe, kubectl, OperatorProcess, suffix, waitFor } from "./operator-harness.js";

/**
 * A Postgres CDC pipe through the operator: applied with kubectl it goes Snapshot → Running
 * with per-table snapshot progress and WAL lag on status, stays one consumer when scaled,
 * keeps its slot while Stopped and resumes where it was when Running again, and its
 * deletion drops the slot and publication it created (and never a publication the user made).
 */
const env = inject("stackEnv");
const enabled = env.POSTGRES_URL !== undefined;
const id = suffix();
const ns = `op-pg-${id}`;
const name = "shop";
const pgDb = `oppg_${id}`;
const chDb = `oppg_${id}`;
let operator: OperatorProcess | undefined;
let ch: ClickHouseClient;
let src: pg.Client;

function manifest(replicas = 1): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name, namespace: ns },
    spec: {
      source: {
        postgres: {
          host: env.POSTGRES_HOST,
          port: Number(env.POSTGRES_PORT),
          database: pgDb,
          credentialsSecretRef: { name: "pg" },
          settings: { syncIntervalSeconds: 1, snapshotNumRowsPerPartition: 20_000, initialLoadParallelism: 2 },
          tableMappings: [{ sourceSchemaName: "public", sourceTable: "orders", targetTable: "orders" }],
        },
      },
      destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } }, database: chDb, permissions: "full" },
      scaling: { replicas, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

const slotName = `clickpipes_${ns.replaceAll("-", "_")}_${name}`;
const slots = async (): Promise<string[]> => (await src.query<{ slot_name: string }>("SELECT slot_name FROM pg_replication_slots WHERE database = $1", [pgDb])).rows.map((r) => r.slot_name);
const publications = async (): Promise<string[]> => (await src.query<{ pubname: string }>("SELECT pubname FROM pg_publication ORDER BY 1")).rows.map((r) => r.pubname);
interface SnapshotTable {
  table: string;
  partitionsDone?: number;
  partitionsTotal?: number;
  rows?: number;
  completed?: boolean;
}
const snapshotTables = async (): Promise<SnapshotTable[] | undefined> => ((await getPipe(env, ns, name))?.status as { snapshot?: { tables?: SnapshotTable[] } } | undefined)?.snapshot?.tables;
const pods = async (): Promise<string[]> => (await kubectl(env, ["-n", ns, "get", "pods", "-l", `clickpipes.io/pipe=${name}`, "-o", "name"])).trim().split("\n").filter(Boolean);
/** Live rows and their amounts summed in cents, on each side. */
const sourceSums = async (): Promise<{ n: number; cents: number }> => {
  const r = (await src.query<{ n: string; cents: string }>("SELECT count(*) AS n, coalesce(sum(amount * 100), 0)::bigint AS cents FROM orders")).rows[0];
  return { n: Number(r?.n), cents: Number(r?.cents) };
};
const targetSums = async (): Promise<{ n: number; cents: number }> => {
  const r = await (await ch.query({ query: `SELECT count() AS n, toInt64(sum(amount) * 100) AS cents FROM ${chDb}.orders FINAL WHERE _peerdb_is_deleted = 0`, format: "JSONEachRow" })).json<{ n: string; cents: string }>();
  return { n: Number(r[0]?.n), cents: Number(r[0]?.cents) };
};
const live = (): Promise<number> => count(ch, `SELECT count() AS n FROM ${chDb}.orders FINAL WHERE _peerdb_is_deleted = 0`).catch(() => -1);

beforeAll(async () => {
  if (!enabled) return;
  ch = clickhouse(env);
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${chDb}` });
  src = await freshDatabase(env, pgDb);
  await src.query("CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), placed timestamptz DEFAULT now())");
  await src.query("INSERT INTO orders SELECT g, g / 100.0 FROM generate_series(1, 200000) g");
  await src.query("ANALYZE orders");
  // The user's own publication: the pipe must leave it alone.
  await src.query("CREATE PUBLICATION users_own FOR TABLE orders");
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await kubectl(env, ["-n", ns, "create", "secret", "generic", "pg", `--from-literal=username=${env.POSTGRES_USER}`, `--from-literal=password=${env.POSTGRES_PASSWORD}`]);
  operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "2", CLICKPIPES_PG_RETAINED_WAL_BYTES: "1" });
});

afterAll(async () => {
  if (!enabled) return;
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch((e: unknown) => String(e));
  await operator?.stop();
  await deleteNamespace(env, ns);
  await src.end();
  await dropDatabase(env, pgDb);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${chDb}` });
  await ch.close();
});

describe.skipIf(!enabled)("operator: Postgres CDC pipe", () => {
  it("kubectl apply: Snapshot then Running, changes replicated, WAL lag on status, retained WAL past the threshold is a condition", async () => {
    await kubectl(env, ["apply", "-f", "-"], manifest());
    const phases: string[] = [];
    await waitFor("the snapshot in and phase Running", async () => {
      const phase = (await getPipe(env, ns, name))?.status?.phase;
      if (phase !== undefined && phases.at(-1) !== phase) phases.push(phase);
      return phase === "Running" && (await live()) === 200_000;
    }, 240_000, 300);
    expect(phases).toContain("Snapshot");
    expect(phases.indexOf("Snapshot")).toBeLessThan(phases.lastIndexOf("Running"));
    // The snapshot's per-table progress stays on status once it completed, rows equal to the source's.
    let tables: SnapshotTable[] | undefined;
    await waitFor("snapshot progress on status", async () => (tables = await snapshotTables())?.[0]?.completed === true, 60_000, 1000).catch((err: unknown) => {
      throw new Error(`${String(err)}; status.snapshot.tables: ${JSON.stringify(tables)}`);
    });
    expect(tables).toEqual([{ table: "orders", partitionsDone: tables?.[0]?.partitionsTotal, partitionsTotal: expect.any(Number) as number, rows: 200_000, completed: true }]);
    expect(tables?.[0]?.partitionsTotal).toBeGreaterThan(1);

    await src.query("UPDATE orders SET amount = 0 WHERE id <= 1000");
    await src.query("DELETE FROM orders WHERE id > 199000");
    await waitFor("changes in", async () => (await live()) === 199_000 && (await count(ch, `SELECT count() AS n FROM ${chDb}.orders FINAL WHERE amount = 0`)) === 1000, 120_000, 1000);
    let last: unknown;
    await waitFor("lag on status and the retained-WAL condition", async () => {
      const p = await getPipe(env, ns, name);
      last = p?.status;
      return typeof p?.status?.lag === "number" && condition(p, "SourceReachable")?.reason === "SlotRetainedWalHigh";
    }, 120_000, 1000).catch((err: unknown) => {
      throw new Error(`${String(err)}; status: ${JSON.stringify(last)}`);
    });
    expect(condition(await getPipe(env, ns, name), "SourceReachable")?.message).toMatch(/slot .* holds .* of WAL/);
    expect(await slots()).toEqual([slotName]);
  });

  it("kubectl scale above 1 runs one consumer (a slot has one reader)", async () => {
    await kubectl(env, ["-n", ns, "scale", `cp/${name}`, "--replicas=2"]);
    await waitFor("status says 1 replica, capped", async () => {
      const p = await getPipe(env, ns, name);
      return p?.status?.replicas?.desired === 1 && condition(p, "Ready")?.reason === "ReplicasCapped";
    }, 60_000, 1000);
    expect(condition(await getPipe(env, ns, name), "Ready")?.message).toMatch(/spec.scaling.replicas 2 is capped at 1/);
    expect((await pods()).length).toBe(1);
  });

  it("Stopped keeps the slot; Running again resumes where it was: the changes made while Stopped arrive", async () => {
    await kubectl(env, ["-n", ns, "patch", `cp/${name}`, "--type=merge", "-p", JSON.stringify({ spec: { state: "Stopped" } })]);
    await waitFor("phase Stopped and no consumer pod", async () => (await getPipe(env, ns, name))?.status?.phase === "Stopped" && (await pods()).length === 0, 120_000, 1000);
    expect(await slots()).toEqual([slotName]);
    const before = await live();
    await src.query("INSERT INTO orders (id, amount) SELECT g, 3.25 FROM generate_series(300001, 302000) g");
    await src.query("UPDATE orders SET amount = 7 WHERE id BETWEEN 1001 AND 1500");
    await src.query("DELETE FROM orders WHERE id BETWEEN 2001 AND 2500");
    expect(await live()).toBe(before);
    expect(await slots()).toEqual([slotName]);

    await kubectl(env, ["-n", ns, "patch", `cp/${name}`, "--type=merge", "-p", JSON.stringify({ spec: { state: "Running" } })]);
    const want = await sourceSums();
    expect(want.n).toBe(before + 1500);
    let got: unknown;
    await waitFor("the changes made while Stopped in ClickHouse", async () => {
      const now = await targetSums();
      got = now;
      return now.n === want.n && now.cents === want.cents;
    }, 180_000, 1000).catch((err: unknown) => {
      throw new Error(`${String(err)}; source ${JSON.stringify(want)}, ClickHouse ${JSON.stringify(got)}`);
    });
    expect(await count(ch, `SELECT count() AS n FROM ${chDb}.orders FINAL WHERE _peerdb_is_deleted = 0 AND amount = 7`)).toBe(500);
    expect(await count(ch, `SELECT count() AS n FROM ${chDb}.orders FINAL WHERE _peerdb_is_deleted = 0 AND id BETWEEN 2001 AND 2500`)).toBe(0);
    await waitFor("phase Running", async () => (await getPipe(env, ns, name))?.status?.phase === "Running", 60_000, 1000);
    expect(await slots()).toEqual([slotName]);
    // Resumed from the slot, not loaded again: the initial load's row count did not move.
    expect((await snapshotTables())?.[0]).toMatchObject({ rows: 200_000, completed: true });
  });

  it("deletion drops the slot and publication the pipe created, not the user's", async () => {
    const own = `clickpipes_${ns.replaceAll("-", "_")}_${name}`;
    expect(await publications()).toEqual([own, "users_own"].sort());
    await kubectl(env, ["-n", ns, "delete", `cp/${name}`, "--timeout=90s"]);
    await waitFor("slot dropped", async () => (await slots()).length === 0, 60_000, 1000);
    expect(await publications()).toEqual(["users_own"]);
    expect(operator?.alive).toBe(true);
    const check = pgAdmin(env, pgDb);
    await check.connect();
    await check.end();
  });
});
