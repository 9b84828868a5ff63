import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { freePort } from "../process.js";
import { parseEntrypoint } from "./container-spec.js";
import { Kubelet } from "./kubelet.js";
import { startLogServer } from "./log-server.js";
import { ChildRegistry } from "./processes.js";

/**
 * Entry point of the test kubelet process (started by kubelet-component.ts):
 *   KUBECONFIG, KUBELET_REPO_ROOT, KUBELET_STATE_DIR required;
 *   KUBELET_NODE_NAME (local-node), KUBELET_BACKOFF_BASE_MS (10000), KUBELET_BACKOFF_MAX_MS (300000),
 *   KUBELET_PORT (10250, the logs API), KUBELET_LEASE_RENEW_MS (2000), KUBELET_NODE_STATUS_MS (10000), KUBELET_KUBE_VERSION.
 */

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`test kubelet: env ${name} is required`);
  return value;
}

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`test kubelet: env ${name}=${raw} is not a non-negative number`);
  return value;
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

function imageEntrypoint(repoRoot: string): string[] | undefined {
  const dockerfile = join(repoRoot, "Dockerfile");
  return existsSync(dockerfile) ? parseEntrypoint(readFileSync(dockerfile, "utf8")) : undefined;
}

async function main(): Promise<void> {
  const kubeconfig = required("KUBECONFIG");
  const repoRoot = required("KUBELET_REPO_ROOT");
  const stateDir = required("KUBELET_STATE_DIR");
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`test kubelet: ${kubeconfig} has no current cluster`);
  const ca = cluster.caData ? Buffer.from(cluster.caData, "base64").toString("utf8") : readFileSync(cluster.caFile ?? "", "utf8");

  const workDir = join(stateDir, "kubelet");
  const port = numberEnv("KUBELET_PORT", 10250);
  await startLogServer({ port, logDir: join(stateDir, "pods"), pidDir: join(workDir, "containers"), certDir: workDir });
  const children = new ChildRegistry(workDir);
  const orphans = children.killOrphans();
  if (orphans > 0) log(`killed ${orphans} container process group(s) left by a previous kubelet`);

  const kubelet = new Kubelet(kc, {
    node: {
      name: process.env.KUBELET_NODE_NAME ?? "local-node",
      cpu: "2",
      memory: "24Gi",
      pods: "110",
      kubeletVersion: process.env.KUBELET_KUBE_VERSION ?? "v1.36.3",
      port,
    },
    leaseRenewMs: numberEnv("KUBELET_LEASE_RENEW_MS", 2000),
    nodeStatusMs: numberEnv("KUBELET_NODE_STATUS_MS", 10_000),
    workerDeps: {
      repoRoot,
      logDir: join(stateDir, "pods"),
      workDir,
      nodeExecPath: process.execPath,
      imageEntrypoint: imageEntrypoint(repoRoot),
      baseEnv: {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: process.env.HOME ?? "/root",
      },
      apiserverUrl: cluster.server,
      apiserverCa: ca,
      backoffBaseMs: numberEnv("KUBELET_BACKOFF_BASE_MS", 10_000),
      backoffMaxMs: numberEnv("KUBELET_BACKOFF_MAX_MS", 300_000),
      children,
      allocatePort: freePort,
      log,
    },
  });

  // Containers die with the kubelet, like pods on a node that went away: SIGTERM them,
  // give them a few seconds, then SIGKILL whatever is left.
  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${signal}: stopping ${children.size} container process group(s)`);
    kubelet.stop();
    children.killAll("SIGTERM");
    const deadline = Date.now() + 5000;
    const timer = setInterval(() => {
      if (children.size > 0 && Date.now() < deadline) return;
      clearInterval(timer);
      children.killAll("SIGKILL");
      process.exit(0);
    }, 100);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  process.on("exit", () => children.killAll("SIGKILL"));

  await kubelet.run();
}

main().catch((err: unknown) => {
  log(`test kubelet failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
