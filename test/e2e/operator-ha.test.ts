import type { ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  adminSecret,
  applyCrd,
  applyPipe,
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
  sleep,
  suffix,
  waitFor,
} from "./operator-harness.js";

/** The operator process failing: a restart mid-ingest, and a standby replica taking over the Lease. */
const env = inject("stackEnv");
const id = suffix();
const ns = `op-ha-${id}`;
const name = "orders";
const topic = `op-ha-${id}`;
const table = `op_ha_${id}`;
const LEASE_SECONDS = 15;
const opEnv = { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "3", LEASE_DURATION_SECONDS: String(LEASE_SECONDS), RENEW_DEADLINE_SECONDS: "10", RETRY_PERIOD_SECONDS: "2" };
const operators: OperatorProcess[] = [];
let ch: ClickHouseClient;

const uniqueIds = (): Promise<number> => count(ch, `SELECT uniqExact(id) AS n FROM default.${table}`);
const replicasOf = async (): Promise<number | undefined> => (await kubectlJson<{ spec: { replicas: number } }>(env, ["-n", ns, "get", "deployment", name]))?.spec.replicas;

async function startOperator(): Promise<OperatorProcess> {
  const op = await OperatorProcess.start(env, opEnv);
  operators.push(op);
  return op;
}

beforeAll(async () => {
  ch = clickhouse(env);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await createTopic(env, topic, 2);
});

afterAll(async () => {
  const op = await startOperator().catch(() => undefined);
  await kubectl(env, ["-n", ns, "delete", "clickpipe", name, "--timeout=60s"]).catch(() => "");
  for (const o of operators) await o.stop();
  await op?.stop();
  await kubectl(env, ["-n", ns, "patch", "clickpipe", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']).catch(() => "");
  await deleteNamespace(env, ns);
  await ch?.close();
});

describe("operator: failures of the operator itself", () => {
  it("converges with nothing lost when killed and restarted mid-ingest", async () => {
    const first = await startOperator();
    await produce(env, topic, 0, 200);
    await applyPipe(env, { name, namespace: ns, topic, table, replicas: 1 });
    await waitFor("the first rows to land", async () => (await uniqueIds().catch(() => 0)) > 0, 120_000, 500);
    await first.stop("SIGKILL");
    await produce(env, topic, 200, 400);
    await kubectl(env, ["-n", ns, "scale", `clickpipe/${name}`, "--replicas=2"]);
    await sleep(2000);
    const second = await startOperator();
    await produce(env, topic, 400, 600);
    await waitFor("all 600 records to land", async () => (await uniqueIds()) === 600, 120_000, 1000);
    await waitFor("the Deployment to follow the scale made while no operator ran", async () => (await replicasOf()) === 2, 60_000);
    const rows = await count(ch, `SELECT count() AS n FROM default.${table}`);
    await waitFor(`status to show ${rows} rows and Ready`, async () => {
      const p = await getPipe(env, ns, name);
      return p?.status?.ingested?.rows === rows && condition(p, "Ready")?.status === "True";
    }, 60_000, 500);
    await second.stop();
  });

  it("lets only the leader reconcile, and a standby takes over within the lease duration", async () => {
    const a = await startOperator();
    const b = await startOperator();
    await waitFor("one leader", async () => (await a.metric("clickpipes_operator_leader")) + (await b.metric("clickpipes_operator_leader")) === 1, 40_000, 500);
    const [leader, standby] = (await a.metric("clickpipes_operator_leader")) === 1 ? [a, b] : [b, a];
    await kubectl(env, ["-n", ns, "scale", `clickpipe/${name}`, "--replicas=1"]);
    await waitFor("the leader to scale the Deployment", async () => (await replicasOf()) === 1, 60_000);
    expect(await leader.metric("clickpipes_operator_reconciles_total")).toBeGreaterThan(0);
    expect(await standby.metric("clickpipes_operator_reconciles_total")).toBe(0);
    expect(await standby.metric("clickpipes_operator_leader")).toBe(0);

    const killedAt = Date.now();
    await leader.stop("SIGKILL");
    await waitFor("the standby to lead", async () => (await standby.metric("clickpipes_operator_leader")) === 1, 40_000, 250);
    const failoverMs = Date.now() - killedAt;
    process.stderr.write(`operator failover after kill -9 of the leader: ${failoverMs} ms (lease ${LEASE_SECONDS} s)\n`);
    // A killed leader cannot release its Lease: the standby takes it when the lease duration
    // since the last renewal has passed (at most 15 s after the kill); slack for polling the metric.
    expect(failoverMs).toBeLessThan((LEASE_SECONDS + 3) * 1000);
    await kubectl(env, ["-n", ns, "scale", `clickpipe/${name}`, "--replicas=2"]);
    await waitFor("the new leader to scale the Deployment", async () => (await replicasOf()) === 2, 60_000);
    expect(await standby.metric("clickpipes_operator_reconciles_total")).toBeGreaterThan(0);

    const c = await startOperator();
    await sleep(3000);
    expect(c.alive && standby.alive).toBe(true);
    expect(await c.metric("clickpipes_operator_leader")).toBe(0);
    const handedOverAt = Date.now();
    await standby.stop("SIGTERM");
    await waitFor("a released Lease to be taken at once", async () => (await c.metric("clickpipes_operator_leader")) === 1, 20_000, 250);
    const handoverMs = Date.now() - handedOverAt;
    process.stderr.write(`operator handover after SIGTERM of the leader: ${handoverMs} ms\n`);
    expect(handoverMs).toBeLessThan(LEASE_SECONDS * 1000);
    await c.stop();
  });
});
