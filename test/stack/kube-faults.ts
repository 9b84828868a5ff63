import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StackContext } from "./component.js";
import { binDir, cacheDir, readComponentEnv, repoRoot, saveComponentEnv, stateDir, writeCombinedEnv } from "./env.js";
import { kubeLayout, startApiserver, waitApiserverReady } from "./kube.js";
import { kubelet } from "./kubelet-component.js";
import { isAlive, sleep, stopProcess } from "./process.js";

/**
 * Fault injection against the Kubernetes part of the stack, for tests:
 * kill a pod's container, stop/start the test kubelet, restart the apiserver.
 */

function context(component: string): StackContext {
  return {
    root: repoRoot,
    cacheDir,
    stateDir,
    binDir,
    env: writeCombinedEnv(),
    previous: readComponentEnv(component),
    log: (m) => process.stderr.write(`[kube-faults] ${m}\n`),
  };
}

/** Pid of a running container, from the file the test kubelet keeps while it runs. */
export function containerPid(namespace: string, pod: string, container: string): number | undefined {
  const file = join(stateDir, "kubelet", "containers", `${namespace}_${pod}_${container}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** kill -9 a container's process group; the kubelet restarts it per restartPolicy. Returns the killed pid. */
export async function killContainer(namespace: string, pod: string, container: string): Promise<number> {
  const pid = containerPid(namespace, pod, container);
  if (pid === undefined) throw new Error(`container ${container} of pod ${namespace}/${pod} is not running on the test kubelet`);
  process.kill(-pid, "SIGKILL");
  while (isAlive(pid)) await sleep(50);
  return pid;
}

/** Stop the test kubelet (its containers die with it); the Node goes NotReady after the grace period (~20 s). */
export async function stopKubelet(): Promise<void> {
  await kubelet.stop(context("kubelet"));
}

/** Start the test kubelet again; it re-registers and restarts the pods bound to it. */
export async function startKubelet(): Promise<void> {
  const ctx = context("kubelet");
  const env = await kubelet.start(ctx);
  saveComponentEnv("kubelet", env);
  writeCombinedEnv();
}

/** Stop kube-apiserver, wait `downSeconds`, start it on the same port and wait for /readyz. */
export async function restartApiserver(downSeconds = 0): Promise<void> {
  const ctx = context("kube");
  if (ctx.previous === undefined) throw new Error("the kube component is not running");
  const layout = await kubeLayout(ctx);
  await stopProcess(ctx, "kube-apiserver", 15_000);
  await sleep(downSeconds * 1000);
  startApiserver(ctx, layout);
  await waitApiserverReady(layout);
}
