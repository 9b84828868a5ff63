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
  suffix,
  tableExists,
  waitFor,
} from "./operator-harness.js";

/**
 * The operator on the real stack: a real apiserver, the consumers run as processes by the
 * test kubelet, real Kafka and ClickHouse. One pipe goes through its whole life.
 */
const env = inject("stackEnv");
const id = suffix();
const ns = `op-e2e-${id}`;
const name = "events";
const topic = `op-e2e-${id}`;
const table = `op_e2e_${id}`;
let operator: OperatorProcess;
let ch: ClickHouseClient;

interface DeploymentObject {
  spec: { replicas: number };
  status?: { readyReplicas?: number };
}

const rowsIn = (): Promise<number> => count(ch, `SELECT count() AS n FROM default.${table}`);
const uniqueIds = (): Promise<number> => count(ch, `SELECT uniqExact(id) AS n FROM default.${table}`);
const errorsIn = (): Promise<number> => count(ch, `SELECT count() AS n FROM default.${table}_clickpipes_error`);
const deployment = (): Promise<DeploymentObject | undefined> => kubectlJson<DeploymentObject>(env, ["-n", ns, "get", "deployment", name]);
const podCount = async (): Promise<number> => {
  const list = await kubectlJson<{ items: unknown[] }>(env, ["-n", ns, "get", "pods", "-l", `clickpipes.io/pipe=${name}`]);
  return list?.items.length ?? 0;
};

beforeAll(async () => {
  ch = clickhouse(env);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await createTopic(env, topic, 2);
  operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "3" });
});

afterAll(async () => {
  await operator?.stop();
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--wait=false"]).catch(() => "");
  await kubectl(env, ["-n", ns, "patch", "clickpipe", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']).catch(() => "");
  await deleteNamespace(env, ns);
  await ch?.close();
});

describe("operator: a ClickPipe's life", () => {
  it("ingests valid rows, keeps malformed records in the error table, and reports both on status within 30 s", async () => {
    await produce(env, topic, 0, 300, ["not json at all", '{"id":"not-a-number","msg":"x"}', "{\"id\": 7"]);
    await applyPipe(env, { name, namespace: ns, topic, table, replicas: 2 });
    await waitFor("the Deployment to run 2 consumers", async () => (await deployment())?.spec.replicas === 2, 60_000);
    await waitFor("300 distinct rows and the 3 malformed records in ClickHouse", async () => (await tableExists(ch, table)) && (await uniqueIds()) === 300 && (await errorsIn()) >= 3, 120_000, 1000);
    const landed = Date.now();
    // At-least-once: a rebalance between the two consumers may insert a batch twice, so the
    // status is compared with what the tables hold, whatever that is.
    const [rows, errors] = [await rowsIn(), await errorsIn()];
    await waitFor(
      `status to show ${rows} rows and ${errors} record errors`,
      async () => {
        const p = await getPipe(env, ns, name);
        return p?.status?.ingested?.rows === rows && p.status.errors?.records === errors;
      },
      30_000,
      500,
    );
    expect(Date.now() - landed).toBeLessThan(30_000);
    await waitFor("Ready=True", async () => condition(await getPipe(env, ns, name), "Ready")?.status === "True", 60_000);
    const pipe = (await getPipe(env, ns, name))!;
    const status = pipe.status!;
    expect(status.phase).toBe("Running");
    expect(status.observedGeneration).toBe(pipe.metadata.generation);
    expect(condition(pipe, "Ready")!.observedGeneration).toBe(pipe.metadata.generation);
    expect(condition(pipe, "SourceReachable")!.status).toBe("True");
    expect(condition(pipe, "DestinationReachable")!.status).toBe("True");
    expect(status.replicas).toEqual({ desired: 2, ready: 2 });
    expect(status.errors!.lastError!.type).toBeTruthy();
    expect(pipe.metadata.finalizers).toContain("clickpipes.io/finalizer");
  });

  it("gives the consumers their own ClickHouse user, not the admin", async () => {
    const secret = await kubectlJson<{ data: Record<string, string> }>(env, ["-n", ns, "get", "secret", `${name}-clickpipe-user`]);
    const user = Buffer.from(secret?.data.username ?? "", "base64").toString();
    const password = Buffer.from(secret?.data.password ?? "", "base64").toString();
    expect(user).toMatch(/^clickpipes_op_e2e_/);
    expect(user).not.toBe(env.CLICKHOUSE_USER);
    const asPipe = clickhouse(env, user, password);
    try {
      expect(await count(asPipe, `SELECT count() AS n FROM default.clickpipes_state WHERE pipe = '${ns}/${name}'`)).toBeGreaterThan(0);
    } finally {
      await asPipe.close();
    }
    const cm = await kubectlJson<{ data: Record<string, string> }>(env, ["-n", ns, "get", "configmap", `${name}-clickpipe`]);
    expect(cm?.data["pipe.json"]).toContain(`${name}-clickpipe-user`);
    expect(cm?.data["pipe.json"]).not.toContain(env.CLICKHOUSE_PASSWORD);
  });

  it("follows `kubectl scale` on the ClickPipe", async () => {
    await kubectl(env, ["-n", ns, "scale", `clickpipe/${name}`, "--replicas=1"]);
    await waitFor("the Deployment to scale to 1", async () => (await deployment())?.spec.replicas === 1, 60_000);
    await waitFor("status replicas 1/1", async () => {
      const p = await getPipe(env, ns, name);
      return p?.status?.replicas?.desired === 1 && p.status.replicas.ready === 1;
    }, 60_000);
  });

  it("stops consumers on state Stopped and resumes on Running without losing records", async () => {
    await kubectl(env, ["-n", ns, "patch", "clickpipe", name, "--type=merge", "-p", '{"spec":{"state":"Stopped"}}']);
    await waitFor("no consumer pods", async () => (await podCount()) === 0, 90_000, 1000);
    await waitFor("phase Stopped", async () => (await getPipe(env, ns, name))?.status?.phase === "Stopped", 30_000);
    expect((await deployment())?.spec.replicas).toBe(0);
    await produce(env, topic, 300, 400);
    await kubectl(env, ["-n", ns, "patch", "clickpipe", name, "--type=merge", "-p", '{"spec":{"state":"Running"}}']);
    await waitFor("the 100 records produced while stopped to land", async () => (await uniqueIds()) === 400, 120_000, 1000);
    await waitFor("phase Running with 400 rows on status", async () => {
      const p = await getPipe(env, ns, name);
      return p?.status?.phase === "Running" && (p.status.ingested?.rows ?? 0) >= 400;
    }, 60_000);
  });

  it("on delete stops the consumers, drops the pipe's user, removes the finalizer and keeps the tables", async () => {
    const secret = await kubectlJson<{ data: Record<string, string> }>(env, ["-n", ns, "get", "secret", `${name}-clickpipe-user`]);
    const user = Buffer.from(secret?.data.username ?? "", "base64").toString();
    const password = Buffer.from(secret?.data.password ?? "", "base64").toString();
    await kubectl(env, ["-n", ns, "delete", "clickpipe", name, "--wait=true", "--timeout=90s"]);
    expect(await getPipe(env, ns, name)).toBeUndefined();
    await waitFor("the Deployment to be gone", async () => (await deployment()) === undefined, 60_000);
    const asPipe = clickhouse(env, user, password);
    try {
      await expect(asPipe.query({ query: "SELECT 1" })).rejects.toThrow(/Authentication failed|AUTHENTICATION_FAILED|516/);
    } finally {
      await asPipe.close();
    }
    expect(await tableExists(ch, table)).toBe(true);
    expect(await tableExists(ch, `${table}_clickpipes_error`)).toBe(true);
    expect(await uniqueIds()).toBe(400);
  });
});
