import type { V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from "@kubernetes/client-node";

/**
 * Pure pod status computation from the runtime state of the pod's containers, following
 * the kubelet's rules (pkg/kubelet/kubelet_pods.go getPhase, status/generate.go).
 */

export interface Terminated {
  readonly exitCode: number;
  readonly signal?: number;
  readonly reason: string;
  readonly message?: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

export type RuntimeState =
  | { readonly kind: "waiting"; readonly reason: string; readonly message?: string }
  | { readonly kind: "running"; readonly startedAt: Date }
  | { readonly kind: "terminated"; readonly terminated: Terminated };

export interface ContainerRuntime {
  readonly name: string;
  readonly image: string;
  readonly state: RuntimeState;
  readonly lastTerminated: Terminated | undefined;
  readonly restartCount: number;
  readonly ready: boolean;
  readonly pid: number | undefined;
}

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

/** restartPolicy decides whether an exited container is started again. */
export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === "Never") return false;
  if (policy === "OnFailure") return exitCode !== 0;
  return true;
}

/** Exit reason the way the kubelet reports it (OOMKilled cannot happen here: no cgroup limits). */
export function exitReason(exitCode: number): string {
  return exitCode === 0 ? "Completed" : "Error";
}

/** Kubelet crash-loop backoff: base doubling per restart, capped. */
export function backoffDelay(step: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, step));
}

export function podPhase(containers: readonly ContainerRuntime[], initFailed: boolean): Phase {
  if (initFailed) return "Failed";
  if (containers.length === 0) return "Pending";
  const running = containers.filter((c) => c.state.kind === "running").length;
  const terminated = containers.filter((c) => c.state.kind === "terminated");
  const restarting = containers.filter((c) => c.state.kind === "waiting" && c.lastTerminated !== undefined).length;
  if (terminated.length === containers.length) {
    return terminated.every((c) => c.state.kind === "terminated" && c.state.terminated.exitCode === 0) ? "Succeeded" : "Failed";
  }
  if (running > 0 || restarting > 0 || terminated.length > 0) return "Running";
  return "Pending";
}

function toTerminatedState(t: Terminated, containerID: string | undefined): V1ContainerState {
  return {
    terminated: {
      exitCode: t.exitCode,
      signal: t.signal,
      reason: t.reason,
      message: t.message,
      startedAt: t.startedAt,
      finishedAt: t.finishedAt,
      containerID,
    },
  };
}

function toState(s: RuntimeState, containerID: string | undefined): V1ContainerState {
  switch (s.kind) {
    case "waiting":
      return { waiting: { reason: s.reason, message: s.message } };
    case "running":
      return { running: { startedAt: s.startedAt } };
    case "terminated":
      return toTerminatedState(s.terminated, containerID);
  }
}

export function containerStatus(c: ContainerRuntime): V1ContainerStatus {
  const containerID = c.pid === undefined ? undefined : `local://${c.pid}`;
  return {
    name: c.name,
    image: c.image,
    imageID: "",
    containerID,
    ready: c.ready,
    started: c.state.kind === "running",
    restartCount: c.restartCount,
    state: toState(c.state, containerID),
    lastState: c.lastTerminated ? toTerminatedState(c.lastTerminated, undefined) : {},
  };
}

function condition(type: string, ok: boolean, previous: readonly V1PodCondition[], now: Date, reason?: string): V1PodCondition {
  const status = ok ? "True" : "False";
  const before = previous.find((p) => p.type === type);
  return {
    type,
    status,
    reason: ok ? undefined : reason,
    lastProbeTime: undefined,
    lastTransitionTime: before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
  };
}

export interface PodRuntime {
  readonly containers: readonly ContainerRuntime[];
  readonly initContainers: readonly ContainerRuntime[];
  readonly initialized: boolean;
  readonly initFailed: boolean;
  readonly startTime: Date;
}

/** The status the kubelet writes through pods/status for this runtime state. */
export function podStatus(pod: V1Pod, runtime: PodRuntime, now: Date): V1PodStatus {
  const previous = pod.status?.conditions ?? [];
  const phase = podPhase(runtime.containers, runtime.initFailed);
  const terminal = phase === "Succeeded" || phase === "Failed";
  const allReady = runtime.containers.length > 0 && runtime.containers.every((c) => c.ready);
  const readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
  return {
    phase,
    hostIP: "127.0.0.1",
    hostIPs: [{ ip: "127.0.0.1" }],
    podIP: "127.0.0.1",
    podIPs: [{ ip: "127.0.0.1" }],
    startTime: runtime.startTime,
    qosClass: pod.status?.qosClass,
    conditions: [
      condition("PodReadyToStartContainers", true, previous, now),
      condition("Initialized", runtime.initialized, previous, now, "ContainersNotInitialized"),
      condition("ContainersReady", allReady && !terminal, previous, now, readyReason),
      condition("Ready", allReady && !terminal, previous, now, readyReason),
      condition("PodScheduled", true, previous, now),
    ],
    containerStatuses: runtime.containers.map(containerStatus),
    initContainerStatuses: runtime.initContainers.length > 0 ? runtime.initContainers.map(containerStatus) : undefined,
  };
}
