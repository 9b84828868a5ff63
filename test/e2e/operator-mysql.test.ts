import type { ClickHouseClient } from "@clickhouse/client";
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { mysqlConnection } from "../integration/mysql-helpers.js";
import { adminSecret, applyCrd, clickhouse, condition, count, createNamespace, deleteNamespace, getPipe, kubectl, kubectlJson, OperatorProcess, suffix, waitFor } from "./operator-harness.js";

/**
 * A MySQL CDC pipe through the operator: applied with kubectl, its one consumer snapshots
 * the MariaDB table, reaches Running and replicates a change; the pipe allows one replica.
 */
const env = inject("stackEnv");
const enabled = env.MYSQL_URL !== undefined && env.KUBECONFIG !== undefined;
const id = suffix();
const ns = `op-mysql-${id}`;
const name = "orders";
const src = `op_mysql_${id}`;
const target = `op_mysql_orders_${id}`;
let operator: OperatorProcess | undefined;
let ch: ClickHouseClient;
let my: Connection;

interface PodList {
  items: { metadata: { name: string; deletionTimestamp?: string } }[];
}

function manifest(replicas: number): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name, namespace: ns },
    spec: {
      source: {
        mysql: {
          host: env.MYSQL_HOST,
          port: Number(env.MYSQL_PORT),
          credentialsSecretRef: { name: "mysql-creds" },
          caCertificateSecretRef: { name: "mysql-ca", key: "ca.crt" },
          tableMappings: [{ sourceSchemaName: src, sourceTable: "orders", targetTable: target }],
        },
      },
      destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } }, database: "default", permissions: "full" },
      scaling: { replicas, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

const live = (): Promise<number> => count(ch, `SELECT count() AS n FROM default.${target} FINAL WHERE _peerdb_is_deleted = 0`).catch(() => -1);
const consumerPods = async (): Promise<PodList["items"]> => ((await kubectlJson<PodList>(env, ["-n", ns, "get", "pods", "-l", `clickpipes.io/pipe=${name}`]))?.items ?? []).filter((p) => p.metadata.deletionTimestamp === undefined);

beforeAll(async () => {
  if (!enabled) return;
  ch = clickhouse(env);
  my = await mysqlConnection(env);
  await my.query(`CREATE DATABASE ${src}; CREATE TABLE ${src}.orders (id INT PRIMARY KEY, item VARCHAR(20) NOT NULL, amount DECIMAL(10,2) NOT NULL)`);
  await my.query(`INSERT INTO ${src}.orders SELECT seq, CONCAT('item', seq), seq / 4 FROM ${src}.seq_1_to_1000`);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await kubectl(env, ["-n", ns, "create", "secret", "generic", "mysql-creds", `--from-literal=username=${env.MYSQL_USER}`, `--from-literal=password=${env.MYSQL_PASSWORD}`]);
  await kubectl(env, ["-n", ns, "create", "secret", "generic", "mysql-ca", `--from-file=ca.crt=${env.MYSQL_CA_FILE}`]);
  operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "2" });
});

afterAll(async () => {
  if (!enabled) return;
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch((e: unknown) => String(e));
  await operator?.stop();
  await deleteNamespace(env, ns);
  await ch.command({ query: `DROP TABLE IF EXISTS default.${target}` }).catch(() => undefined);
  await ch.command({ query: `DROP TABLE IF EXISTS default.${target}_clickpipes_error` }).catch(() => undefined);
  await my.query(`DROP DATABASE IF EXISTS ${src}`);
  await my.end();
  await ch.close();
});

describe.skipIf(!enabled)("operator: MySQL CDC pipe (MariaDB, TLS with caCertificateSecretRef)", () => {
  it("applied with kubectl: one consumer snapshots the table, the pipe reaches Running and replicates a change", async () => {
    // Two replicas asked: a binlog is one stream, so the operator runs one.
    await kubectl(env, ["apply", "-f", "-"], manifest(2));
    await waitFor("the 1,000 snapshot rows", async () => (await live()) === 1_000, 240_000, 1000);
    await waitFor("phase Running", async () => (await getPipe(env, ns, name))?.status?.phase === "Running", 120_000, 1000);
    await my.query(`UPDATE ${src}.orders SET item = 'changed' WHERE id <= 10; DELETE FROM ${src}.orders WHERE id > 990`);
    await waitFor("the replicated update and deletes", async () => (await live()) === 990 && (await count(ch, `SELECT count() AS n FROM default.${target} FINAL WHERE item = 'changed' AND _peerdb_is_deleted = 0`)) === 10, 120_000, 1000);
    const pipe = await getPipe(env, ns, name);
    expect(pipe?.status?.phase).toBe("Running");
    expect(condition(pipe, "SourceReachable")?.status).toBe("True");
    expect(await consumerPods()).toHaveLength(1);
  });
});
