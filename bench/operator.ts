/**
 * The operator at scale on the real apiserver: N ClickPipes (state Stopped, so no consumers
 * run) are created, then one operator process starts and reconciles them to a steady state
 * (each pipe with its finalizer, a Deployment at 0 replicas, ConfigMap, and status Stopped
 * for its generation; a pipe's user Secret is written when it first runs). Reports the time to steady state, the operator's RSS, the Kubernetes API
 * requests per pipe (the operator's own counter), the requests and ClickHouse queries it makes
 * per resync once steady, and the time to delete them all through the finalizer.
 *
 * Args: `npm run bench -- operator [N]` (default 1000). Env: BENCH_RESYNC_SECONDS (default 10);
 * BENCH_OPERATOR_MAIN: another build's `dist/src/cli/main.js`, to measure an earlier commit
 * against the same stack (default: this checkout's build).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KubeClient, type KubeList, type KubeObject } from "../src/operator/kube/client.js";
import { loadStackEnv, repoRoot, type StackEnv } from "../test/stack/env.js";
import { freePort, run, waitFor } from "../test/stack/process.js";
import { up } from "../test/stack/stack.js";

const log = (msg: string): void => void process.stderr.write(`[bench operator ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PipeObject extends KubeObject {
  status?: { phase?: string; observedGeneration?: number };
}

function pipe(env: StackEnv, ns: string, i: number): object {
  return {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: `pipe-${i}`, namespace: ns },
    spec: {
      state: "Stopped",
      source: { kafka: { brokers: env.KAFKA_BROKERS ?? "127.0.0.1:9092", topics: `bench-${i}` } },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        table: `bench_op_${i}`,
        columns: [{ name: "id", type: "UInt64" }],
      },
      scaling: { replicas: 2, size: "XS" },
    },
  };
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

/** Sum of a metric's samples whose label text passes `keep`. */
async function metric(port: number, name: string, keep: (labels: string) => boolean = () => true): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || !(line[name.length] === " " || line[name.length] === "{")) continue;
    if (!keep(line.slice(name.length, line.lastIndexOf(" ")))) continue;
    total += Number(line.split(" ").pop());
  }
  return total;
}

const REQUESTS = "clickpipes_operator_kube_requests_total";
const isLease = (labels: string): boolean => labels.includes('resource="leases"');
/** Writes the pipes cause: everything but reads, watches and the Lease renewals. */
const isPipeWrite = (labels: string): boolean => !/verb="(GET|WATCH)"/.test(labels) && !isLease(labels);

async function steadyCount(client: KubeClient, ns: string): Promise<number> {
  const list = await client.request<KubeList<PipeObject>>("GET", `/apis/clickpipes.io/v1alpha1/namespaces/${ns}/clickpipes`);
  return list.items.filter((p) => p.status?.phase === "Stopped" && p.status.observedGeneration === p.metadata.generation).length;
}

function startOperator(env: StackEnv, ns: string, port: number, resyncSeconds: number): ChildProcess {
  const main = process.env.BENCH_OPERATOR_MAIN ?? join(repoRoot, "dist", "src", "cli", "main.js");
  const child = spawn(process.execPath, [main, "operator"], {
    cwd: repoRoot,
    env: { ...process.env, KUBECONFIG: env.KUBECONFIG, CLICKPIPES_HTTP_PORT: String(port), WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: String(resyncSeconds), LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (child.pid === undefined) throw new Error("could not start the operator");
  return child;
}

async function createPipes(env: StackEnv, client: KubeClient, ns: string, n: number): Promise<void> {
  const t0 = Date.now();
  await inParallel(
    Array.from({ length: n }, (_v, i) => i),
    16,
    async (i) => {
      await client.request("POST", `/apis/clickpipes.io/v1alpha1/namespaces/${ns}/clickpipes`, { body: pipe(env, ns, i) });
    },
  );
  log(`created ${n} ClickPipes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function deleteAll(client: KubeClient, ns: string): Promise<number> {
  const t0 = Date.now();
  await client.request("DELETE", `/apis/clickpipes.io/v1alpha1/namespaces/${ns}/clickpipes`);
  await waitFor(
    "every ClickPipe to be finalized",
    async () => (await client.request<KubeList>("GET", `/apis/clickpipes.io/v1alpha1/namespaces/${ns}/clickpipes`, { query: { limit: 1 } })).items.length === 0,
    20 * 60_000,
    2000,
  );
  return (Date.now() - t0) / 1000;
}

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const n = Number(args[0] ?? 1000);
  const resyncSeconds = Number(process.env.BENCH_RESYNC_SECONDS ?? 10);
  await up(["kube", "clickhouse"]);
  const env = loadStackEnv();
  process.env.KUBECONFIG = env.KUBECONFIG;
  const kubectl = (a: string[], input?: string): Promise<string> => run(join(env.STACK_BIN ?? "", "kubectl"), a, { env: { KUBECONFIG: env.KUBECONFIG }, input });
  await kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, "crds", "clickpipes.io_clickpipes.yaml")]);
  const ns = `bench-op-${randomBytes(3).toString("hex")}`;
  await kubectl(["create", "namespace", ns]);
  await kubectl(["-n", ns, "create", "secret", "generic", "ch-admin", `--from-literal=username=${env.CLICKHOUSE_USER}`, `--from-literal=password=${env.CLICKHOUSE_PASSWORD}`]);
  const client = await KubeClient.fromEnvironment(200);
  await createPipes(env, client, ns, n);

  const port = await freePort();
  const t0 = Date.now();
  const operator = startOperator(env, ns, port, resyncSeconds);
  try {
    let steady = 0;
    while (steady < n) {
      await sleep(1000);
      steady = await steadyCount(client, ns);
      if (Date.now() - t0 > 30 * 60_000) throw new Error(`only ${steady}/${n} pipes steady after 30 min`);
    }
    const steadySeconds = (Date.now() - t0) / 1000;
    log(`all ${n} Stopped for their generation after ${steadySeconds.toFixed(1)} s; waiting for writes to stop`);
    // Settled: a whole resync interval without a write beyond the Lease renewals.
    const writesNow = (): Promise<number> => metric(port, REQUESTS, isPipeWrite);
    let last = await writesNow();
    let lastChange = Date.now();
    while (Date.now() - lastChange < resyncSeconds * 1000) {
      await sleep(1000);
      const w = await writesNow();
      if (w !== last) [last, lastChange] = [w, Date.now()];
    }
    const settledSeconds = (lastChange - t0) / 1000;
    const requests = await metric(port, REQUESTS);
    const leaseRequests = await metric(port, REQUESTS, isLease);
    const writes = last;
    const memory = rssMiB(operator.pid as number);
    log(`settled after ${settledSeconds.toFixed(1)} s: ${requests} API requests (${leaseRequests} for the Lease), RSS ${memory.rss} MiB`);
    const [idleReqs0, idleCh0, idleRec0] = [await metric(port, REQUESTS, (l) => !isLease(l)), await metric(port, "clickpipes_operator_clickhouse_queries_total"), await metric(port, "clickpipes_operator_reconciles_total")];
    await sleep(3 * resyncSeconds * 1000);
    const idleReqs = (await metric(port, REQUESTS, (l) => !isLease(l))) - idleReqs0;
    const idleCh = (await metric(port, "clickpipes_operator_clickhouse_queries_total")) - idleCh0;
    const idleReconciles = (await metric(port, "clickpipes_operator_reconciles_total")) - idleRec0;
    const idleMemory = rssMiB(operator.pid as number);
    log(`idle for 3 resyncs: ${idleReqs} API requests, ${idleCh} ClickHouse queries, ${idleReconciles} reconciles`);

    const deleteSeconds = await deleteAll(client, ns);
    log(`deleted all ${n} through the finalizer in ${deleteSeconds.toFixed(1)} s`);
    return {
      bench: "operator",
      pipes: n,
      allStoppedSeconds: Math.round(steadySeconds * 10) / 10,
      steadyStateSeconds: Math.round(settledSeconds * 10) / 10,
      pipesPerSecond: Math.round((n / settledSeconds) * 10) / 10,
      operatorRssMiB: idleMemory.rss,
      operatorPeakRssMiB: idleMemory.peak,
      apiRequestsToSteadyState: requests,
      apiRequestsPerPipe: Math.round(((requests - leaseRequests) / n) * 100) / 100,
      apiWritesPerPipe: Math.round((writes / n) * 100) / 100,
      resyncSeconds,
      idleApiRequestsPerResync: Math.round(idleReqs / 3),
      leaseRequestsPerSecond: Math.round((leaseRequests / settledSeconds) * 100) / 100,
      idleClickHouseQueriesPerResync: Math.round(idleCh / 3),
      idleReconcilesPerResync: Math.round(idleReconciles / 3),
      deleteAllSeconds: Math.round(deleteSeconds * 10) / 10,
    };
  } finally {
    operator.kill("SIGTERM");
    await new Promise((r) => operator.once("exit", r));
    await kubectl(["delete", "namespace", ns, "--wait=false"]).catch((error: unknown) => log(`cleanup: ${error instanceof Error ? error.message : String(error)}`));
    client.close();
  }
}

