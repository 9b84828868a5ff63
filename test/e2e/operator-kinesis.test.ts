import type { ClickHouseClient } from "@clickhouse/client";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createStream, entry, kinesisClient, putRecords, shardsReadIn } from "../integration/kinesis-helpers.js";
import { adminSecret, applyCrd, clickhouse, count, createNamespace, deleteNamespace, getPipe, kubectl, kubectlJson, OperatorProcess, suffix, waitFor } from "./operator-harness.js";

/**
 * A Kinesis pipe through the operator: its consumers run as a StatefulSet, so each replica
 * has a stable index and `kubectl scale` splits the shards between them (indices 0 and 1
 * read shards 0,2 and 1,3 of a 4-shard stream), with nothing lost across the rolls.
 */
const env = inject("stackEnv");
const enabled = env.KINESIS_ENDPOINT !== undefined;
const id = suffix();
const ns = `op-kinesis-${id}`;
const name = "clicks";
const stream = `op-kinesis-${id}`;
const table = `op_kinesis_${id}`;
const pipeKey = `${ns}/${name}`;
const SHARDS = 4;
const MALFORMED = 7;
let operator: OperatorProcess | undefined;
let ch: ClickHouseClient;
let kinesis: KinesisClient | undefined;

interface PodList {
  items: { metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}
interface StatefulSetObject {
  spec: { replicas: number; podManagementPolicy?: string };
  status?: { readyReplicas?: number; updatedReplicas?: number; currentRevision?: string; updateRevision?: string };
}

function manifest(): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name, namespace: ns },
    spec: {
      source: {
        kinesis: { streamName: stream, region: env.KINESIS_REGION, endpoint: env.KINESIS_ENDPOINT, format: "JSONEachRow", iteratorType: "TRIM_HORIZON", authentication: "IAM_USER", credentialsSecretRef: { name: "aws" } },
      },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: "default",
        table,
        managedTable: true,
        columns: [
          { name: "id", type: "UInt64" },
          { name: "_shard_id", type: "String" },
        ],
        tableDefinition: { sortingKey: ["id"] },
      },
      scaling: { replicas: 1, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

const put = (from: number, to: number, malformed = 0): Promise<void> =>
  putRecords(kinesis!, stream, [...Array.from({ length: to - from }, (_, i) => entry(`k${from + i}`, JSON.stringify({ id: from + i }))), ...Array.from({ length: malformed }, (_, i) => entry(`bad${i}`, `{not json ${i}`))]);
const distinctIds = (): Promise<number> => count(ch, `SELECT uniqExact(id) AS n FROM default.${table}`).catch(() => 0);
const consumerPods = async (): Promise<PodList["items"]> => ((await kubectlJson<PodList>(env, ["-n", ns, "get", "pods", "-l", `clickpipes.io/pipe=${name}`]))?.items ?? []).filter((p) => !p.metadata.deletionTimestamp);
const ready = (p: PodList["items"][number]): boolean => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
const statefulSet = (): Promise<StatefulSetObject | undefined> => kubectlJson<StatefulSetObject>(env, ["-n", ns, "get", "statefulset", name]);

/** The replica and shards of the pod's current run (the test kubelet appends every run of a pod name to one log). */
async function lastRun(pod: string): Promise<{ replica?: { index: number; count: number }; shards: string[] }> {
  const lines = (await kubectl(env, ["-n", ns, "logs", pod])).split("\n");
  const start = lines.findLastIndex((l) => l.includes('"serving /healthz, /readyz and /metrics"'));
  const run = lines.slice(Math.max(0, start));
  const consuming = run.find((l) => l.includes('"msg":"consuming"'));
  const replica = consuming === undefined ? undefined : (JSON.parse(consuming) as { replica?: { index: number; count: number } }).replica;
  return { ...(replica ? { replica } : {}), shards: shardsReadIn(run.join("\n")) };
}

/** Waits until the StatefulSet runs `n` ready pods of its latest revision and the pipe's status says so. */
async function settledAt(n: number): Promise<void> {
  await waitFor(`${n} ready consumer pod(s) of the latest revision`, async () => {
    const sts = await statefulSet();
    const pods = await consumerPods();
    return sts?.spec.replicas === n && sts.status?.readyReplicas === n && sts.status.updatedReplicas === n && sts.status.currentRevision === sts.status.updateRevision && pods.length === n && pods.every(ready);
  }, 240_000, 1000);
  await waitFor(`status replicas ${n}/${n}`, async () => {
    const p = await getPipe(env, ns, name);
    return p?.status?.replicas?.desired === n && p.status.replicas.ready === n && p.status.phase === "Running";
  }, 60_000, 500);
}

/** Status counters and lag as the tables have them (lag: the largest latest lag of any shard, in ms). */
async function tableFigures(): Promise<{ rows: number; errors: number; lag: number }> {
  const rows = await count(ch, `SELECT sum(rows) AS n FROM default.clickpipes_state WHERE pipe = '${pipeKey}'`);
  const errors = await count(ch, `SELECT count() AS n FROM default.${table}_clickpipes_error`);
  const lag = await count(ch, `SELECT max(l) AS n FROM (SELECT argMax(lag, last_insert_time) AS l FROM default.clickpipes_state WHERE pipe = '${pipeKey}' GROUP BY source_position)`);
  return { rows, errors, lag };
}

async function statusMatchesTables(): Promise<void> {
  await waitFor("status rows/errors/lag equal to the tables", async () => {
    const [p, t] = [await getPipe(env, ns, name), await tableFigures()];
    return p?.status?.ingested?.rows === t.rows && p.status.errors?.records === t.errors && p.status.lag === t.lag;
  }, 60_000, 1000);
}

beforeAll(async () => {
  if (!enabled) return;
  ch = clickhouse(env);
  kinesis = kinesisClient(env);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await kubectl(env, ["-n", ns, "create", "secret", "generic", "aws", "--from-literal=accessKeyId=test", "--from-literal=secretAccessKey=test"]);
  await createStream(kinesis, stream, SHARDS);
  operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "2" });
});

afterAll(async () => {
  if (!enabled) return;
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch((e: unknown) => String(e));
  await operator?.stop();
  await deleteNamespace(env, ns);
  kinesis?.destroy();
  await ch?.close();
});

describe.skipIf(!enabled)("operator: Kinesis pipe with a stable replica index (StatefulSet)", () => {
  it("applied with kubectl: a StatefulSet of 1 consumer reads all 4 shards, reaches Running, status matches the tables", async () => {
    await put(0, 2_000, MALFORMED);
    await kubectl(env, ["apply", "-f", "-"], manifest());
    await waitFor("2,000 rows", async () => (await distinctIds()) === 2_000, 180_000, 1000);
    await settledAt(1);
    expect((await statefulSet())?.spec.podManagementPolicy).toBe("Parallel");
    expect(await kubectlJson(env, ["-n", ns, "get", "deployment", name])).toBeUndefined();
    const [pod] = await consumerPods();
    expect(pod?.metadata.name).toBe(`${name}-0`);
    expect(await lastRun(`${name}-0`)).toEqual({ replica: { index: 0, count: 1 }, shards: ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"] });
    await waitFor(`${MALFORMED} error rows`, async () => (await count(ch, `SELECT count() AS n FROM default.${table}_clickpipes_error`).catch(() => 0)) === MALFORMED, 60_000, 1000);
    await statusMatchesTables();
  });

  it("kubectl scale to 2: pods with indices 0 and 1 split the shards, nothing is lost; back to 1: one pod reads them all", async () => {
    await kubectl(env, ["-n", ns, "scale", `cp/${name}`, "--replicas=2"]);
    await settledAt(2);
    const labels = (await consumerPods()).map((p) => p.metadata.labels?.["apps.kubernetes.io/pod-index"]).sort();
    expect(labels).toEqual(["0", "1"]);
    await waitFor("both replicas reading their shards", async () => {
      const now = [await lastRun(`${name}-0`), await lastRun(`${name}-1`)];
      return now[0]!.shards.length === 2 && now[1]!.shards.length === 2;
    }, 60_000, 1000);
    expect(await lastRun(`${name}-0`)).toEqual({ replica: { index: 0, count: 2 }, shards: ["shardId-000000000000", "shardId-000000000002"] });
    expect(await lastRun(`${name}-1`)).toEqual({ replica: { index: 1, count: 2 }, shards: ["shardId-000000000001", "shardId-000000000003"] });

    await put(2_000, 4_000);
    await waitFor("4,000 distinct ids from the two replicas", async () => (await distinctIds()) === 4_000, 180_000, 1000);
    await statusMatchesTables();

    await kubectl(env, ["-n", ns, "scale", `cp/${name}`, "--replicas=1"]);
    await settledAt(1);
    await waitFor("replica 0 of 1 reading all shards", async () => (await lastRun(`${name}-0`)).shards.length === SHARDS, 60_000, 1000);
    expect((await lastRun(`${name}-0`)).replica).toEqual({ index: 0, count: 1 });
    await put(4_000, 5_000);
    await waitFor("5,000 distinct ids", async () => (await distinctIds()) === 5_000, 180_000, 1000);
    // at-least-once: a shard may be read twice while the StatefulSet rolls; no id is missing
    expect(await count(ch, `SELECT count() AS n FROM default.${table}`)).toBeGreaterThanOrEqual(5_000);
    await statusMatchesTables();
  });

  it("Stopped scales the StatefulSet to 0; deletion removes it and releases the pipe", async () => {
    await kubectl(env, ["-n", ns, "patch", `cp/${name}`, "--type=merge", "-p", JSON.stringify({ spec: { state: "Stopped" } })]);
    await waitFor("0 consumer pods and phase Stopped", async () => (await consumerPods()).length === 0 && (await getPipe(env, ns, name))?.status?.phase === "Stopped", 120_000, 1000);
    expect((await statefulSet())?.spec.replicas).toBe(0);
    await kubectl(env, ["-n", ns, "delete", `cp/${name}`, "--timeout=60s"]);
    await waitFor("the StatefulSet gone", async () => (await statefulSet()) === undefined, 60_000, 1000);
    expect(operator?.alive).toBe(true);
  });
});
