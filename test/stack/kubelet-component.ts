import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { Component, StackContext } from "./component.js";
import { KUBE_VERSION } from "./kube.js";
import { freePort, isAlive, readPid, spawnDetached, stopProcess, waitFor } from "./process.js";

/**
 * The test kubelet (test/stack/kubelet/): one process that registers a Ready Node and runs
 * the pods bound to it as local processes. Started through tsx from the checkout, so a
 * change to its code takes effect on the next `stack stop kubelet && stack start kubelet`.
 */

export const NODE_NAME = "local-node";
/** Crash-loop backoff base for tests: the kubelet's 10 s would make restart tests slow. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

export function startKubelet(ctx: StackContext, kubeconfig: string, port: number): void {
  mkdirSync(join(ctx.stateDir, "pods"), { recursive: true });
  spawnDetached(ctx, "kubelet", process.execPath, ["--import", "tsx", join(ctx.root, "test/stack/kubelet/main.ts")], {
    cwd: ctx.root,
    env: {
      KUBECONFIG: kubeconfig,
      KUBELET_REPO_ROOT: ctx.root,
      KUBELET_STATE_DIR: ctx.stateDir,
      KUBELET_NODE_NAME: NODE_NAME,
      KUBELET_PORT: String(port),
      KUBELET_KUBE_VERSION: KUBE_VERSION,
      KUBELET_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS),
      KUBELET_BACKOFF_MAX_MS: String(BACKOFF_MAX_MS),
      // The kubelet's children must not inherit the stack CLI's or vitest's Node options.
      NODE_OPTIONS: undefined,
    },
  });
}

export async function nodeReady(kubeconfig: string): Promise<boolean> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const node = await kc.makeApiClient(CoreV1Api).readNode({ name: NODE_NAME });
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  const tainted = (node.spec?.taints ?? []).some((t) => t.key === "node.kubernetes.io/not-ready" || t.key === "node.kubernetes.io/unreachable");
  return ready?.status === "True" && !tainted;
}

function kubeconfigOf(ctx: StackContext): string {
  const kubeconfig = ctx.env.KUBECONFIG ?? ctx.previous?.KUBELET_KUBECONFIG;
  if (!kubeconfig) throw new Error("kubelet needs the kube component (KUBECONFIG is not set)");
  return kubeconfig;
}

export const kubelet: Component = {
  name: "kubelet",
  dependsOn: ["kube"],

  provision() {
    return Promise.resolve();
  },

  async start(ctx) {
    const kubeconfig = kubeconfigOf(ctx);
    const previousPort = Number(ctx.previous?.KUBELET_PORT);
    const port = Number.isInteger(previousPort) && previousPort > 0 ? previousPort : await freePort();
    startKubelet(ctx, kubeconfig, port);
    await waitFor(
      `node ${NODE_NAME} Ready and untainted (see ${join(ctx.stateDir, "logs", "kubelet.log")})`,
      async () => {
        if (!isAlive(readPid(ctx, "kubelet"))) throw new Error(`the test kubelet exited; see ${join(ctx.stateDir, "logs", "kubelet.log")}`);
        return nodeReady(kubeconfig);
      },
      90_000,
      500,
    );
    return { KUBELET_NODE_NAME: NODE_NAME, KUBELET_KUBECONFIG: kubeconfig, KUBELET_PORT: String(port), KUBELET_PODS_LOG_DIR: join(ctx.stateDir, "pods") };
  },

  async healthy(ctx, env) {
    if (!isAlive(readPid(ctx, "kubelet"))) return false;
    try {
      return await nodeReady(env.KUBELET_KUBECONFIG ?? kubeconfigOf(ctx));
    } catch {
      return false;
    }
  },

  async stop(ctx) {
    await stopProcess(ctx, "kubelet", 15_000);
  },
};
