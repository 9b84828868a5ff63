import type { ClickHouseClient } from "@clickhouse/client";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { chDigest, dropDatabase, freshDatabase, pgDigest } from "../integration/postgres-helpers.js";
import { adminSecret, applyCrd, clickhouse, count, createNamespace, deleteNamespace, kubectl, kubectlJson, OperatorProcess, suffix, waitFor } from "./operator-harness.js";

/**
 * A resync through the operator: `kubectl annotate cp/shop clickpipes.io/resync=true` on a
 * Postgres pipe whose ClickHouse table drifted (rows deleted in ClickHouse, which
 * replication never restores) is acknowledged on status.resync (Resyncing, then Completed),
 * the annotation is removed, the operator killed -9 and restarted meanwhile carries it
 * through, and the table equals Postgres by content afterwards, with replication going on.
 */
const env = inject("stackEnv");
const enabled = env.POSTGRES_URL !== undefined;
const id = suffix();
const ns = `op-pgrs-${id}`;
const name = "shop";
const db = `oppgrs_${id}`;
const columns = ["id", "amount", "note"];
let operator: OperatorProcess | undefined;
let ch: ClickHouseClient;
let src: pg.Client;

interface ResyncPipe {
  metadata: { annotations?: Record<string, string> };
  status?: { phase?: string; resync?: { id?: string; phase?: string; requestedAt?: string; completedAt?: string; tables?: string[] } };
}

const getPipe = (): Promise<ResyncPipe | undefined> => kubectlJson<ResyncPipe>(env, ["-n", ns, "get", "clickpipe", name]);
const live = (where = "1"): Promise<number> => count(ch, `SELECT count() AS n FROM ${db}.orders FINAL WHERE _peerdb_is_deleted = 0 AND ${where}`).catch(() => -1);

function manifest(): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name, namespace: ns },
    spec: {
      source: {
        postgres: {
          host: env.POSTGRES_HOST,
          port: Number(env.POSTGRES_PORT),
          database: db,
          credentialsSecretRef: { name: "pg" },
          settings: { syncIntervalSeconds: 1, snapshotNumRowsPerPartition: 5_000 },
          tableMappings: [{ sourceSchemaName: "public", sourceTable: "orders", targetTable: "orders" }],
        },
      },
      destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } }, database: db, permissions: "full" },
      scaling: { replicas: 1, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

beforeAll(async () => {
  if (!enabled) return;
  ch = clickhouse(env);
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  src = await freshDatabase(env, db);
  await src.query("CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), note text)");
  await src.query("INSERT INTO orders SELECT g, g / 100.0, 'n' || g FROM generate_series(1, 20000) g");
  await src.query("ANALYZE orders");
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await kubectl(env, ["-n", ns, "create", "secret", "generic", "pg", `--from-literal=username=${env.POSTGRES_USER}`, `--from-literal=password=${env.POSTGRES_PASSWORD}`]);
  operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "2" });
});

afterAll(async () => {
  if (!enabled) return;
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch((e: unknown) => String(e));
  await operator?.stop();
  await deleteNamespace(env, ns);
  await src.end();
  await dropDatabase(env, db);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe.skipIf(!enabled)("operator: Postgres resync", () => {
  it("kubectl annotate clickpipes.io/resync: acknowledged on status, annotation removed, the drifted table equal to Postgres after", async () => {
    await kubectl(env, ["apply", "-f", "-"], manifest());
    await waitFor("the snapshot in and phase Running", async () => (await getPipe())?.status?.phase === "Running" && (await live()) === 20_000, 180_000, 500);

    // Drift that replication never repairs: rows deleted in ClickHouse only.
    await ch.command({ query: `ALTER TABLE ${db}.orders DELETE WHERE id <= 3000 SETTINGS mutations_sync = 2` });
    await src.query("UPDATE orders SET note = 'changed' WHERE id BETWEEN 5001 AND 5100");
    await waitFor("the update replicated", async () => (await live("note = 'changed'")) === 100, 60_000, 500);
    expect(await live()).toBe(17_000);

    await kubectl(env, ["-n", ns, "annotate", `cp/${name}`, "clickpipes.io/resync=true"]);
    let seen: ResyncPipe | undefined;
    await waitFor("the annotation acknowledged on status and removed", async () => {
      seen = await getPipe();
      return seen?.status?.resync?.id !== undefined && seen.metadata.annotations?.["clickpipes.io/resync"] === undefined;
    }, 60_000, 300);
    const resync = seen?.status?.resync;
    expect(resync?.tables).toEqual(["orders"]);
    expect(resync?.requestedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    // The operator killed and started again mid-resync: the new one finds it on status and sees it through.
    await operator?.stop("SIGKILL");
    operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "2" });
    await waitFor("status.resync Completed", async () => (seen = await getPipe())?.status?.resync?.phase === "Completed", 180_000, 500);
    expect(seen?.status?.resync).toMatchObject({ id: resync?.id, phase: "Completed", completedAt: expect.stringMatching(/^\d{4}-/) as string });
    expect(await chDigest(ch, db, "orders", columns)).toEqual(await pgDigest(src, "orders", columns));
    expect(await count(ch, `SELECT count() AS n FROM system.tables WHERE database = '${db}' AND name = 'orders_resync'`)).toBe(0);

    // Replication goes on from the new slot.
    await src.query("INSERT INTO orders VALUES (30001, 1.5, 'after'); DELETE FROM orders WHERE id = 10");
    await waitFor("changes after the resync", async () => (await live("id = 30001")) === 1 && (await live("id = 10")) === 0, 60_000, 500);
    expect(await chDigest(ch, db, "orders", columns)).toEqual(await pgDigest(src, "orders", columns));
    await waitFor("phase Running", async () => (await getPipe())?.status?.phase === "Running", 60_000, 500);
  });
});
