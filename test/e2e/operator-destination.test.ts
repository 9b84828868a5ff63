import type { ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { pipeUserName } from "../../src/clickhouse/users.js";
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
  waitFor,
} from "./operator-harness.js";

/**
 * A destination that refuses the consumers' inserts for a non-data reason (the pipe user's
 * INSERT grant revoked): the consumers log it and retry, the operator reports
 * DestinationReachable=False from their log row, and past the destination threshold it
 * fails the pipe, stops its consumers and writes one system error row saying why.
 */
const env = inject("stackEnv");
const id = suffix();
const ns = `op-dest-${id}`;
const name = "revoked";
const topic = `op-dest-${id}`;
const table = `op_dest_${id}`;
const DESTINATION_FAIL_SECONDS = 15;
let operator: OperatorProcess;
let ch: ClickHouseClient;

const deploymentReplicas = async (): Promise<number | undefined> => (await kubectlJson<{ spec: { replicas: number } }>(env, ["-n", ns, "get", "deployment", name]))?.spec.replicas;
const podCount = async (): Promise<number> => (await kubectlJson<{ items: unknown[] }>(env, ["-n", ns, "get", "pods", "-l", `clickpipes.io/pipe=${name}`]))?.items.length ?? 0;
const rowsIn = (): Promise<number> => count(ch, `SELECT count() AS n FROM default.${table}`);

beforeAll(async () => {
  ch = clickhouse(env);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  await createTopic(env, topic, 1);
  operator = await OperatorProcess.start(env, {
    WATCH_NAMESPACES: ns,
    LEASE_NAMESPACE: ns,
    RESYNC_SECONDS: "2",
    DESTINATION_UNREACHABLE_FAIL_SECONDS: String(DESTINATION_FAIL_SECONDS),
  });
});

afterAll(async () => {
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch(() => "");
  await operator?.stop();
  await deleteNamespace(env, ns);
  await ch?.close();
});

describe("operator: destination refusing inserts", () => {
  it("a revoked INSERT grant kept past a short configured destination threshold: phase Failed, 0 consumer pods, exactly one clickpipes_log row with error_type DestinationUnreachableTimeout", async () => {
    await produce(env, topic, 0, 50);
    await applyPipe(env, { name, namespace: ns, topic, table });
    await waitFor("the first 50 rows", async () => (await rowsIn().catch(() => 0)) === 50, 120_000, 1000);
    await waitFor("Running and DestinationReachable=True", async () => {
      const p = await getPipe(env, ns, name);
      return p?.status?.phase === "Running" && condition(p, "DestinationReachable")?.status === "True";
    }, 60_000);

    await ch.command({ query: `REVOKE INSERT ON default.${table} FROM ${pipeUserName(`${ns}/${name}`)}` });
    await produce(env, topic, 50, 60);
    await waitFor("DestinationReachable=False from the consumers' refused insert", async () => condition(await getPipe(env, ns, name), "DestinationReachable")?.status === "False", 60_000, 500);
    const refused = condition(await getPipe(env, ns, name), "DestinationReachable");
    expect(refused?.reason).toBe("DestinationUnreachable");
    expect(refused?.message).toMatch(/privilege|ACCESS_DENIED|grant/i);
    expect(await count(ch, `SELECT count() AS n FROM default.${table}_clickpipes_error`)).toBe(0);

    await waitFor("phase Failed", async () => (await getPipe(env, ns, name))?.status?.phase === "Failed", (DESTINATION_FAIL_SECONDS + 60) * 1000, 1000);
    const pipe = await getPipe(env, ns, name);
    expect(condition(pipe, "Ready")).toMatchObject({ status: "False", reason: "DestinationUnreachableTimeout" });
    expect(condition(pipe, "Ready")?.message).toMatch(/destination unreachable for .* \(limit 15 s\)/);
    await waitFor("the consumers scaled to 0", async () => (await deploymentReplicas()) === 0, 30_000);
    await waitFor("no consumer pod left", async () => (await podCount()) === 0, 60_000, 1000);
    expect(await count(ch, `SELECT count() AS n FROM default.clickpipes_log WHERE pipe = '${ns}/${name}' AND level = 'error' AND error_type = 'DestinationUnreachableTimeout'`)).toBe(1);
    expect(await rowsIn()).toBe(50);
  });

  it("after the grant is back, Stopped then Running resumes the failed pipe and delivers what waited, without failing it again on the old log row", async () => {
    await ch.command({ query: `GRANT INSERT ON default.${table} TO ${pipeUserName(`${ns}/${name}`)}` });
    await kubectl(env, ["-n", ns, "patch", "clickpipe", name, "--type=merge", "-p", '{"spec":{"state":"Stopped"}}']);
    await waitFor("phase Stopped", async () => (await getPipe(env, ns, name))?.status?.phase === "Stopped", 30_000);
    await kubectl(env, ["-n", ns, "patch", "clickpipe", name, "--type=merge", "-p", '{"spec":{"state":"Running"}}']);
    await waitFor("the 10 records that waited", async () => (await rowsIn()) >= 60, 120_000, 1000);
    await waitFor("Running with DestinationReachable=True", async () => {
      const p = await getPipe(env, ns, name);
      return p?.status?.phase === "Running" && condition(p, "DestinationReachable")?.status === "True";
    }, 60_000);
    expect(await count(ch, `SELECT uniqExact(id) AS n FROM default.${table}`)).toBe(60);
    expect(await count(ch, `SELECT count() AS n FROM default.clickpipes_log WHERE pipe = '${ns}/${name}' AND error_type = 'DestinationUnreachableTimeout'`)).toBe(1);
  });
});
