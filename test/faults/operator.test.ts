/**
 * The fault suite's operator part: two operator replicas (leader election) run an
 * at-least-once and an exactly-once ClickPipe whose consumers are pods (the stack's test
 * kubelet runs them); under load the leader is killed -9 and the standby takes over, and
 * `kubectl scale` moves the pipes 1 → 3 → 1 consumers. Kafka and ClickHouse are private
 * instances; the shared kube control plane is only used (a namespace of its own), never
 * restarted. Needs `npm run build` (the operator and the pods run dist/, as the image does).
 */
import type { ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminSecret, applyCrd, createNamespace, deleteNamespace, kubectl, kubectlJson, OperatorProcess, suffix } from "../e2e/operator-harness.js";
import { type PrivateComponent, clickhouse, createTopic, privateComponent, waitFor } from "../integration/ingest-helpers.js";
import { loadStackEnv } from "../stack/env.js";
import { type PipeUnderTest, type Row, type Suite, counts, log, sleep, table, underLoad } from "./harness.js";

const REPS = Number(process.env.FAULT_REPS ?? 2);
const RATE = Number(process.env.FAULT_RATE ?? 1_000);
const MAX_BATCH_ROWS = 5_000;
const id = suffix();
const ns = `faults-op-${id}`;
const opEnv = { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "3", LEASE_DURATION_SECONDS: "15", RENEW_DEADLINE_SECONDS: "10", RETRY_PERIOD_SECONDS: "2" };

let broker: PrivateComponent;
let chServer: PrivateComponent;
let ch: ClickHouseClient;
let env: Record<string, string>;
const operators: OperatorProcess[] = [];
const pipes: (PipeUnderTest & { name: string })[] = [];
const rows: Row[] = [];
let suite: Suite;

function manifest(p: PipeUnderTest & { name: string }): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: p.name, namespace: ns },
    spec: {
      source: { kafka: { brokers: env.KAFKA_BROKERS, topics: p.topic, format: "JSONEachRow" } },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: p.db,
        table: p.table,
        managedTable: true,
        columns: [
          { name: "id", type: "UInt64" },
          { name: "payload", type: "String" },
          { name: "_partition", type: "Int32" },
          { name: "_offset", type: "Int64" },
        ],
        tableDefinition: { sortingKey: ["id"] },
      },
      scaling: { replicas: 1, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s", maxBatchRows: MAX_BATCH_ROWS, exactlyOnce: p.mode === "exactly-once" },
    },
  });
}

async function startOperator(): Promise<OperatorProcess> {
  const op = await OperatorProcess.start(env, opEnv);
  operators.push(op);
  return op;
}

async function leader(): Promise<OperatorProcess> {
  let found: OperatorProcess | undefined;
  await waitFor("one leader", async () => {
    const alive = operators.filter((o) => o.alive);
    const flags = await Promise.all(alive.map((o) => o.metric("clickpipes_operator_leader")));
    found = alive[flags.indexOf(1)];
    return flags.reduce((a, b) => a + b, 0) === 1;
  }, 60_000);
  return found as OperatorProcess;
}

beforeAll(async () => {
  log("operator faults: private Kafka and ClickHouse, the shared kube control plane");
  [broker, chServer] = await Promise.all([privateComponent("kafka"), privateComponent("clickhouse")]);
  env = { ...loadStackEnv(), ...broker.env, ...chServer.env };
  ch = clickhouse(env);
  await ch.command({ query: "CREATE DATABASE IF NOT EXISTS faults_op" });
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  for (const mode of ["at-least-once", "exactly-once"] as const) {
    const short = mode === "exactly-once" ? "eo" : "alo";
    const p = { mode, name: `op-${short}`, topic: `faults-op-${short}-${id}`, db: "faults_op", table: `events_${short}`, file: "" };
    // A broker just started may not host the new partitions at once: retried (creating an existing topic is a no-op).
    await waitFor(`topic ${p.topic}`, async () => {
      await createTopic(env, p.topic, 3);
      return true;
    }, 60_000);
    pipes.push(p);
  }
  // One replica more than the leader kills to come: each kill leaves a standby to take over (starting one under load is slow here).
  for (let i = 0; i <= REPS; i++) await startOperator();
  for (const p of pipes) await kubectl(env, ["apply", "-f", "-"], manifest(p));
  suite = { env, ch, pipes, rows, rate: RATE, maxBatchRows: MAX_BATCH_ROWS };
  await waitFor("both pipes' tables", async () => (await Promise.all(pipes.map((p) => counts(env, ch, p)))).length === 2, 180_000);
}, 600_000);

afterAll(async () => {
  process.stderr.write(`\nOperator fault accounting (${new Date().toISOString()}):\n${table(rows)}\n\n`);
  for (const p of pipes) await kubectl(env, ["-n", ns, "delete", "clickpipe", p.name, "--timeout=60s"]).catch(() => "");
  for (const o of operators) await o.stop();
  for (const p of pipes) await kubectl(env, ["-n", ns, "patch", "clickpipe", p.name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']).catch(() => "");
  await deleteNamespace(env, ns).catch(() => undefined);
  await ch?.close();
  await broker?.destroy();
  await chServer?.destroy();
}, 180_000);

describe("Kafka pipes run by the operator, under operator and scaling faults", () => {
  it(`operator kill -9 and leader failover (×${REPS})`, async () => {
    await underLoad(suite, "operator kill -9 + leader failover", REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        const current = await leader();
        await current.stop("SIGKILL");
        const next = await leader();
        expect(next).not.toBe(current);
        await sleep(5_000);
      }
    });
  });

  it(`kubectl scale 1 → 3 → 1 (×${REPS})`, async () => {
    const replicas = async (name: string): Promise<number | undefined> => (await kubectlJson<{ status?: { readyReplicas?: number } }>(env, ["-n", ns, "get", "deployment", name]))?.status?.readyReplicas;
    await underLoad(suite, "kubectl scale 1→3→1", REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        for (const p of pipes) await kubectl(env, ["-n", ns, "scale", `clickpipe/${p.name}`, "--replicas=3"]);
        await waitFor("3 ready consumers per pipe", async () => (await Promise.all(pipes.map((p) => replicas(p.name)))).every((n) => n === 3), 120_000);
        await sleep(10_000);
        for (const p of pipes) await kubectl(env, ["-n", ns, "scale", `clickpipe/${p.name}`, "--replicas=1"]);
        await waitFor("1 ready consumer per pipe", async () => (await Promise.all(pipes.map((p) => replicas(p.name)))).every((n) => n === 1), 120_000);
        await sleep(10_000);
      }
    });
  });
});
