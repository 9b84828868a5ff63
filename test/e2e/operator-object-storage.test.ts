import { randomBytes } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type TestStore, storeAvailable, testStore } from "../integration/object-storage-helpers.js";
import { adminSecret, applyCrd, clickhouse, count, createNamespace, deleteNamespace, getPipe, kubectl, kubectlJson, OperatorProcess, suffix, waitFor } from "./operator-harness.js";

/**
 * A one-shot object storage pipe through the operator: applied with kubectl, its consumer
 * ingests the files on the S3 server (one with a malformed line), the pipe ends Completed,
 * no consumer pod is left running, and the status counters equal the tables.
 */
const env = inject("stackEnv");
const enabled = storeAvailable(env, "s3") && env.KUBECONFIG !== undefined;
const id = suffix();
const ns = `op-os-${id}`;
const name = "archive";
const table = `op_os_${id}`;
const pipeKey = `${ns}/${name}`;
let operator: OperatorProcess | undefined;
let ch: ClickHouseClient;
let store: TestStore | undefined;

interface PodList {
  items: { metadata: { name: string; deletionTimestamp?: string }; status?: { phase?: string } }[];
}

function manifest(bucket: string): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name, namespace: ns },
    spec: {
      source: {
        objectStorage: { type: "s3", url: `${env.S3_ENDPOINT}/${bucket}/logs/**/*.json*`, format: "JSONEachRow", authentication: "IAM_USER", credentialsSecretRef: { name: "s3" } },
      },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: "default",
        table,
        managedTable: true,
        columns: [
          { name: "id", type: "UInt64" },
          { name: "_file", type: "String" },
        ],
        tableDefinition: { sortingKey: ["id"] },
      },
      scaling: { replicas: 1, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

const lines = (from: number, n: number): string => Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i })).join("\n") + "\n";

beforeAll(async () => {
  if (!enabled) return;
  ch = clickhouse(env);
  store = await testStore(env, "s3", `op-os-${randomBytes(4).toString("hex")}`);
  for (let i = 0; i < 6; i++) await store.put(`logs/${i % 2 === 0 ? "a" : "b/c"}/f${i}.json`, lines(i * 100, 100));
  await store.put("logs/z/bad.json", `${lines(1000, 5)}{"id": oops\n`);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await kubectl(env, ["-n", ns, "create", "secret", "generic", "s3", `--from-literal=accessKeyId=${env.S3_ACCESS_KEY_ID}`, `--from-literal=secretAccessKey=${env.S3_SECRET_ACCESS_KEY}`]);
  operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "2" });
});

afterAll(async () => {
  if (!enabled) return;
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch((e: unknown) => String(e));
  await operator?.stop();
  await deleteNamespace(env, ns);
  store?.close();
  await ch?.close();
});

describe.skipIf(!enabled)("operator: one-shot object storage pipe", () => {
  it("applied with kubectl: ends Completed with no consumer pod left, status rows equal to the table", async () => {
    await kubectl(env, ["apply", "-f", "-"], manifest(store!.bucket));
    await waitFor("phase Completed", async () => (await getPipe(env, ns, name))?.status?.phase === "Completed", 240_000, 1000);
    await waitFor("no consumer pod left", async () => {
      const pods = (await kubectlJson<PodList>(env, ["-n", ns, "get", "pods", "-l", `clickpipes.io/pipe=${name}`]))?.items ?? [];
      return pods.filter((p) => p.metadata.deletionTimestamp === undefined).length === 0;
    }, 120_000, 1000);
    expect(await count(ch, `SELECT count() FROM default.${table}`)).toBe(605);
    expect(await count(ch, `SELECT uniqExact(_file) FROM default.${table}`)).toBe(7);
    expect(await count(ch, `SELECT count() FROM default.${table}_clickpipes_error WHERE source_position = 'logs/z/bad.json:6'`)).toBe(1);
    // The table of ingested files, written by the consumer as the pipe's own ClickHouse user (its grants).
    expect(await count(ch, `SELECT count() FROM default.${table}_clickpipes_archive WHERE pipe = '${pipeKey}' AND status = 'done'`)).toBe(7);
    await waitFor("status rows and errors equal to the tables", async () => {
      const p = await getPipe(env, ns, name);
      const rows = await count(ch, `SELECT sum(rows) FROM default.clickpipes_state WHERE pipe = '${pipeKey}'`);
      return rows === 605 && p?.status?.ingested?.rows === rows && p.status.errors?.records === 1;
    }, 60_000, 1000);
    // Completed for good: nothing restarts the consumer.
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await getPipe(env, ns, name))?.status?.phase).toBe("Completed");
    expect(((await kubectlJson<PodList>(env, ["-n", ns, "get", "pods", "-l", `clickpipes.io/pipe=${name}`]))?.items ?? []).length).toBe(0);
  });
});
