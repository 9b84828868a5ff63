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
  deleteNamespace,
  getPipe,
  kubectl,
  kubectlJson,
  OperatorProcess,
  suffix,
  waitFor,
} from "./operator-harness.js";

/** Specs that cannot work, and a source that goes away: each becomes a condition a user can act on. */
const env = inject("stackEnv");
const id = suffix();
const ns = `op-cond-${id}`;
const SOURCE_FAIL_SECONDS = 8;
let operator: OperatorProcess;
let ch: ClickHouseClient;

const deploymentReplicas = async (name: string): Promise<number | undefined> =>
  (await kubectlJson<{ spec: { replicas: number } }>(env, ["-n", ns, "get", "deployment", name]))?.spec.replicas;

beforeAll(async () => {
  ch = clickhouse(env);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  operator = await OperatorProcess.start(env, {
    WATCH_NAMESPACES: ns,
    LEASE_NAMESPACE: ns,
    RESYNC_SECONDS: "2",
    PROBE_TIMEOUT_SECONDS: "2",
    SOURCE_UNREACHABLE_FAIL_SECONDS: String(SOURCE_FAIL_SECONDS),
    // long on purpose: the missing Secret's pipe must be woken by the Secret's creation, not by this timer
    SPEC_ERROR_REQUEUE_SECONDS: "600",
  });
});

afterAll(async () => {
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch(() => "");
  await operator?.stop();
  await deleteNamespace(env, ns);
  await ch?.close();
});

describe("operator: conditions", () => {
  it("reports a missing Secret as SecretNotFound, runs nothing, and recovers as soon as the Secret appears", async () => {
    const name = "no-secret";
    await applyPipe(env, { name, namespace: ns, topic: `op-cond-${id}`, table: `op_cond_${id}`, adminSecret: "ch-later" });
    await waitFor("SecretNotFound", async () => condition(await getPipe(env, ns, name), "Ready")?.reason === "SecretNotFound", 60_000);
    const pipe = await getPipe(env, ns, name);
    expect(condition(pipe, "Ready")?.status).toBe("False");
    expect(condition(pipe, "Ready")?.message).toMatch(/Secret "ch-later" \(spec.destination.clickhouse.credentialsSecretRef\) not found in namespace .*: create it with key\(s\) username, password/);
    expect(condition(pipe, "DestinationReachable")?.reason).toBe("SecretNotFound");
    expect(pipe?.status?.phase).toBe("Setup");
    expect(await deploymentReplicas(name)).toBeUndefined();
    await adminSecret(env, ns, "ch-later");
    await waitFor("the pipe to leave Setup once the Secret exists", async () => {
      const p = await getPipe(env, ns, name);
      return p?.status?.phase !== "Setup" && condition(p, "DestinationReachable")?.status === "True";
    }, 60_000);
    expect(await deploymentReplicas(name)).toBe(1);
  });

  it("reports a missing table of an unmanaged pipe as TableNotFound", async () => {
    const name = "no-table";
    await applyPipe(env, { name, namespace: ns, topic: `op-cond-${id}`, table: `op_cond_missing_${id}`, managedTable: false });
    await waitFor("TableNotFound", async () => condition(await getPipe(env, ns, name), "Ready")?.reason === "TableNotFound", 60_000);
    const pipe = await getPipe(env, ns, name);
    expect(condition(pipe, "DestinationReachable")).toMatchObject({ status: "False", reason: "TableNotFound" });
    // the message names the table and both ways out (its exact words are clickhouse-ops.ts's)
    expect(condition(pipe, "Ready")?.message).toMatch(new RegExp(`default\\.op_cond_missing_${id} does not exist.*managedTable`));
    expect(await deploymentReplicas(name)).toBeUndefined();
  });

  it("fails a pipe whose source stays unreachable, stops its consumers and logs a system error", async () => {
    const name = "dead-source";
    await applyPipe(env, { name, namespace: ns, topic: `op-cond-${id}`, table: `op_cond_dead_${id}`, brokers: "127.0.0.1:1" });
    await waitFor("SourceReachable=False", async () => condition(await getPipe(env, ns, name), "SourceReachable")?.status === "False", 60_000);
    await waitFor("phase Failed", async () => (await getPipe(env, ns, name))?.status?.phase === "Failed", (SOURCE_FAIL_SECONDS + 60) * 1000, 1000);
    const pipe = await getPipe(env, ns, name);
    expect(condition(pipe, "Ready")).toMatchObject({ status: "False", reason: "SourceUnreachableTimeout" });
    expect(condition(pipe, "Ready")?.message).toMatch(/source unreachable for .* \(limit 8 s\)/);
    await waitFor("the consumers to be scaled to 0", async () => (await deploymentReplicas(name)) === 0, 30_000);
    expect(await count(ch, `SELECT count() AS n FROM default.clickpipes_log WHERE pipe = '${ns}/${name}' AND level = 'error' AND error_type = 'SourceUnreachableTimeout'`)).toBe(1);
    await waitFor("status.errors.system", async () => ((await getPipe(env, ns, name))?.status?.errors?.system ?? 0) >= 1, 30_000);
  });
});
