import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Container, V1Pod, V1Probe } from "@kubernetes/client-node";
import { ContainerConfigError, envReferences, IMAGE_WORKDIR, resolveContainer, type ResolvedContainer } from "./container-spec.js";
import { backoffDelay, exitReason, podStatus, shouldRestart, type ContainerRuntime, type RuntimeState, type Terminated } from "./pod-status.js";
import { runProbe, type ProbeTarget } from "./probes.js";
import { signalGroup, signalNumber, startProcess, type ChildRegistry } from "./processes.js";
import { materialiseVolumes, VolumeError, type ApiReader } from "./volumes.js";
import type { KubeletApi } from "./api.js";

/**
 * One pod on the test kubelet: materialises its volumes, runs its init containers then
 * its containers as local processes, restarts them per restartPolicy with backoff, probes
 * them, writes the pod's status, and terminates it gracefully when it is deleted.
 */

export interface WorkerDeps {
  readonly api: KubeletApi;
  readonly repoRoot: string;
  /** `<stateDir>/pods`: one log per pod container, `<ns>_<pod>_<container>.log`. */
  readonly logDir: string;
  /** Scratch space: volumes, pid files. */
  readonly workDir: string;
  readonly nodeExecPath: string;
  readonly imageEntrypoint: readonly string[] | undefined;
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly apiserverUrl: string;
  readonly apiserverCa: string;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly children: ChildRegistry;
  allocatePort(): Promise<number>;
  log(message: string): void;
}

/** Reset the crash-loop backoff after a container ran this long, as the kubelet does. */
const BACKOFF_RESET_MS = 10 * 60_000;
const CONFIG_RETRY_MS = 2000;
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

class Slot {
  state: RuntimeState = { kind: "waiting", reason: "ContainerCreating" };
  lastTerminated: Terminated | undefined;
  restartCount = 0;
  /** Set when the pod existed before this kubelet started: its next start counts as a restart. */
  ranBefore = false;
  ready = false;
  pid: number | undefined;
  child: ChildProcess | undefined;
  backoffStep = 0;
  timer: NodeJS.Timeout | undefined;
  onExit: ((t: Terminated) => void) | undefined;

  constructor(
    readonly spec: V1Container,
    readonly isInit: boolean,
  ) {}

  /** A pod the kubelet finds already running keeps its restart count. */
  carryOver(pod: V1Pod): void {
    const previous = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    const before = previous.find((s) => s.name === this.spec.name);
    this.restartCount = before?.restartCount ?? 0;
    this.ranBefore = before?.state?.running !== undefined || before?.state?.terminated !== undefined;
  }

  runtime(): ContainerRuntime {
    return {
      name: this.spec.name,
      image: this.spec.image ?? "",
      state: this.state,
      lastTerminated: this.lastTerminated,
      restartCount: this.restartCount,
      ready: this.ready,
      pid: this.pid,
    };
  }
}

/** Readiness after one probe result: flips only after the threshold of consecutive results. */
function readiness(ready: boolean, ok: boolean, counts: { failures: number; successes: number }, t: { failureThreshold: number; successThreshold: number }): boolean {
  if (ok) return ready || counts.successes >= t.successThreshold;
  return ready && counts.failures < t.failureThreshold;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PodWorker {
  private readonly slots: Slot[];
  private readonly initSlots: Slot[];
  private readonly hostPorts = new Map<number, number>();
  private volumeDirs = new Map<string, string>();
  private initialized = false;
  private initFailed = false;
  private readonly startTime: Date;
  /** No more starts or restarts: the pod is being deleted or is gone. */
  private stopped = false;
  private terminating = false;
  private syncing = false;
  private syncAgain = false;
  private readonly dir: string;

  constructor(
    private pod: V1Pod,
    private readonly deps: WorkerDeps,
  ) {
    this.slots = (pod.spec?.containers ?? []).map((c) => new Slot(c, false));
    this.initSlots = (pod.spec?.initContainers ?? []).map((c) => new Slot(c, true));
    this.dir = join(deps.workDir, "pods", this.uid);
    for (const slot of this.allSlots()) slot.carryOver(pod);
    this.startTime = pod.status?.startTime ? new Date(pod.status.startTime) : new Date();
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? "";
  }

  private get ns(): string {
    return this.pod.metadata?.namespace ?? "default";
  }

  private get name(): string {
    return this.pod.metadata?.name ?? "";
  }

  /** Latest object from the API; a deletionTimestamp starts graceful termination. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp && !this.terminating) void this.terminate();
  }

  async start(): Promise<void> {
    if (this.pod.metadata?.deletionTimestamp) return this.terminate();
    const phase = this.pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") {
      this.stopped = true;
      return;
    }
    this.deps.log(`pod ${this.ns}/${this.name}: starting`);
    this.requestSync();
    for (const slot of this.slots) for (const p of slot.spec.ports ?? []) this.hostPorts.set(p.containerPort, await this.deps.allocatePort());
    if (!(await this.mountVolumes())) return;
    if (!(await this.runInitContainers())) return;
    this.initialized = true;
    for (const slot of this.slots) await this.startContainer(slot);
  }

  private async mountVolumes(): Promise<boolean> {
    let lastError = "";
    while (!this.stopped) {
      try {
        this.volumeDirs = await materialiseVolumes(this.deps.api, this.pod, join(this.dir, "volumes"));
        this.writeServiceAccountKubeconfig();
        return true;
      } catch (err) {
        const reason = err instanceof VolumeError ? "FailedMount" : "ApiError";
        if (message(err) !== lastError) this.event(undefined, "Warning", "FailedMount", message(err));
        lastError = message(err);
        for (const slot of [...this.initSlots, ...this.slots]) slot.state = { kind: "waiting", reason: "ContainerCreating", message: `${reason}: ${message(err)}` };
        this.requestSync();
        await sleep(CONFIG_RETRY_MS);
      }
    }
    return false;
  }

  /**
   * In-cluster config reads fixed paths under /var/run that a host process cannot have, so
   * the kubelet does not set KUBERNETES_SERVICE_HOST (client libraries would try them) and
   * instead points KUBECONFIG at a kubeconfig holding the pod's own ServiceAccount token:
   * the pod keeps its identity and RBAC. A KUBECONFIG in the pod's env wins.
   */
  private writeServiceAccountKubeconfig(): void {
    const mount = this.slots.flatMap((s) => s.spec.volumeMounts ?? []).find((m) => m.mountPath === SERVICE_ACCOUNT_DIR);
    const dir = mount ? this.volumeDirs.get(mount.name) : undefined;
    if (dir === undefined) return;
    const token = readFileSync(join(dir, "token"), "utf8");
    writeFileSync(
      join(dir, "kubeconfig"),
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "in-cluster", cluster: { server: this.deps.apiserverUrl, "certificate-authority-data": Buffer.from(this.deps.apiserverCa).toString("base64") } }],
        users: [{ name: "sa", user: { token } }],
        contexts: [{ name: "in-cluster", context: { cluster: "in-cluster", user: "sa", namespace: this.ns } }],
        "current-context": "in-cluster",
      }),
    );
  }

  private pathMap(container: V1Container): Array<[string, string]> {
    const map: Array<[string, string]> = [[IMAGE_WORKDIR, this.deps.repoRoot]];
    for (const m of container.volumeMounts ?? []) {
      const dir = this.volumeDirs.get(m.name);
      if (dir !== undefined) map.push([m.mountPath, m.subPath ? join(dir, m.subPath) : dir]);
    }
    return map;
  }

  private baseEnv(container: V1Container): Record<string, string> {
    const env: Record<string, string> = { ...this.deps.baseEnv, HOSTNAME: this.name };
    const sa = (container.volumeMounts ?? []).find((m) => m.mountPath === SERVICE_ACCOUNT_DIR);
    const dir = sa ? this.volumeDirs.get(sa.name) : undefined;
    if (dir !== undefined) env.KUBECONFIG = join(dir, "kubeconfig");
    return env;
  }

  private async resolve(slot: Slot): Promise<ResolvedContainer> {
    const refs = envReferences(slot.spec);
    const configMaps = new Map<string, Record<string, string> | undefined>();
    const secrets = new Map<string, Record<string, string> | undefined>();
    const api: ApiReader = this.deps.api;
    for (const n of refs.configMaps) configMaps.set(n, await api.configMap(this.ns, n));
    for (const n of refs.secrets) secrets.set(n, await api.secret(this.ns, n));
    return resolveContainer({
      pod: this.pod,
      container: slot.spec,
      nodeExecPath: this.deps.nodeExecPath,
      repoRoot: this.deps.repoRoot,
      imageEntrypoint: this.deps.imageEntrypoint,
      pathMap: this.pathMap(slot.spec),
      hostPorts: this.hostPorts,
      configMaps,
      secrets,
      baseEnv: this.baseEnv(slot.spec),
    });
  }

  private logFile(slot: Slot): string {
    return join(this.deps.logDir, `${this.ns}_${this.name}_${slot.spec.name}.log`);
  }

  private pidFile(slot: Slot): string {
    return join(this.deps.workDir, "containers", `${this.ns}_${this.name}_${slot.spec.name}.pid`);
  }

  private async startContainer(slot: Slot): Promise<void> {
    slot.timer = undefined;
    if (this.stopped) return;
    let resolved: ResolvedContainer;
    try {
      resolved = await this.resolve(slot);
    } catch (err) {
      const reason = err instanceof ContainerConfigError ? "CreateContainerConfigError" : "CreateContainerError";
      if (slot.state.kind !== "waiting" || slot.state.message !== message(err)) this.event(slot, "Warning", "Failed", `Error: ${message(err)}`);
      slot.state = { kind: "waiting", reason, message: message(err) };
      this.requestSync();
      slot.timer = setTimeout(() => void this.startContainer(slot), CONFIG_RETRY_MS);
      return;
    }
    if (this.stopped) return;
    const startedAt = new Date();
    const started = startProcess(resolved, this.logFile(slot));
    if (slot.lastTerminated !== undefined || slot.ranBefore) slot.restartCount += 1;
    slot.ranBefore = false;
    if (started instanceof Error) {
      this.deps.log(`pod ${this.ns}/${this.name} container ${slot.spec.name}: ${started.message}`);
      this.exited(slot, { exitCode: 128, reason: "StartError", message: started.message, startedAt, finishedAt: new Date() });
      return;
    }
    slot.pid = started.pid;
    slot.child = started.child;
    this.deps.children.add(started.pid);
    mkdirSync(join(this.deps.workDir, "containers"), { recursive: true });
    writeFileSync(this.pidFile(slot), String(started.pid));
    slot.state = { kind: "running", startedAt };
    slot.ready = slot.spec.readinessProbe === undefined && slot.spec.startupProbe === undefined && !slot.isInit;
    started.child.on("exit", (code, signal) => {
      this.deps.children.delete(started.pid);
      rmSync(this.pidFile(slot), { force: true });
      const exitCode = code ?? 128 + signalNumber(signal);
      this.exited(slot, {
        exitCode,
        signal: signal ? signalNumber(signal) : undefined,
        reason: exitReason(exitCode),
        startedAt,
        finishedAt: new Date(),
      });
    });
    this.deps.log(`pod ${this.ns}/${this.name} container ${slot.spec.name}: started pid ${started.pid}: ${JSON.stringify([resolved.file, ...resolved.args]).slice(0, 300)}`);
    this.event(slot, "Normal", "Started", `Started container ${slot.spec.name}`);
    if (!slot.isInit) void this.probe(slot, started.pid, resolved);
    this.requestSync();
  }

  private exited(slot: Slot, t: Terminated): void {
    slot.pid = undefined;
    slot.child = undefined;
    slot.ready = false;
    if (slot.onExit) return slot.onExit(t);
    if (this.stopped) {
      slot.state = { kind: "terminated", terminated: t };
      return;
    }
    this.deps.log(`pod ${this.ns}/${this.name} container ${slot.spec.name}: exited ${t.exitCode} (${t.reason})`);
    if (t.finishedAt.getTime() - t.startedAt.getTime() > BACKOFF_RESET_MS) slot.backoffStep = 0;
    if (!shouldRestart(this.pod.spec?.restartPolicy, t.exitCode)) {
      slot.state = { kind: "terminated", terminated: t };
      this.requestSync();
      return;
    }
    this.scheduleRestart(slot, t);
  }

  private setReady(slot: Slot, ready: boolean): void {
    if (slot.ready === ready) return;
    if (!ready) this.event(slot, "Warning", "Unhealthy", "Readiness probe failed");
    slot.ready = ready;
    this.requestSync();
  }

  private scheduleRestart(slot: Slot, t: Terminated): void {
    slot.timer = setTimeout(() => void this.startContainer(slot), this.backoff(slot, t));
  }

  /**
   * Records the exit and returns how long to wait before the next start: the first
   * restart is immediate, then base, 2×base, … up to the cap (the kubelet's CrashLoopBackOff).
   */
  private backoff(slot: Slot, t: Terminated): number {
    slot.lastTerminated = t;
    const delay = slot.backoffStep === 0 ? 0 : backoffDelay(slot.backoffStep - 1, this.deps.backoffBaseMs, this.deps.backoffMaxMs);
    slot.backoffStep += 1;
    if (delay > 0) this.event(slot, "Warning", "BackOff", `Back-off restarting failed container ${slot.spec.name} in pod ${this.name}_${this.ns}(${this.uid})`);
    slot.state =
      delay === 0
        ? { kind: "waiting", reason: "ContainerCreating" }
        : {
            kind: "waiting",
            reason: "CrashLoopBackOff",
            message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${slot.spec.name} pod=${this.name}_${this.ns}(${this.uid})`,
          };
    this.requestSync();
    return delay;
  }

  private async runInitContainers(): Promise<boolean> {
    for (const slot of this.initSlots) {
      for (;;) {
        const t = await new Promise<Terminated>((resolve) => {
          slot.onExit = resolve;
          void this.startContainer(slot);
        });
        slot.onExit = undefined;
        if (this.stopped) return false;
        if (t.exitCode === 0) {
          slot.state = { kind: "terminated", terminated: t };
          this.requestSync();
          break;
        }
        if (this.pod.spec?.restartPolicy === "Never") {
          slot.state = { kind: "terminated", terminated: t };
          this.initFailed = true;
          this.requestSync();
          return false;
        }
        await sleep(this.backoff(slot, t));
      }
    }
    return true;
  }

  /** Startup, then readiness and liveness probes, for one run of a container (pid). */
  private async probe(slot: Slot, pid: number, resolved: ResolvedContainer): Promise<void> {
    const target: ProbeTarget = { container: slot.spec, hostPorts: this.hostPorts, env: resolved.env, cwd: resolved.cwd };
    const alive = (): boolean => slot.pid === pid && !this.stopped;
    const { startupProbe, readinessProbe, livenessProbe } = slot.spec;
    if (startupProbe && !(await this.probeLoop(startupProbe, target, alive, "startup", slot))) return;
    if (readinessProbe === undefined && alive()) {
      slot.ready = true;
      this.requestSync();
    }
    await Promise.all([
      readinessProbe ? this.probeLoop(readinessProbe, target, alive, "readiness", slot) : Promise.resolve(true),
      livenessProbe ? this.probeLoop(livenessProbe, target, alive, "liveness", slot) : Promise.resolve(true),
    ]);
  }

  /**
   * Runs a probe every periodSeconds while the container lives. Readiness flips `ready`;
   * liveness and startup failures past failureThreshold kill the container (restartPolicy
   * then decides). A startup probe returns true once it succeeds.
   */
  private async probeLoop(probe: V1Probe, target: ProbeTarget, alive: () => boolean, kind: "startup" | "readiness" | "liveness", slot: Slot): Promise<boolean> {
    const { failureThreshold = 3, successThreshold = 1 } = probe;
    const counts = { failures: 0, successes: 0 };
    await sleep((probe.initialDelaySeconds ?? 0) * 1000);
    while (alive()) {
      const ok = await this.probeOnce(probe, target, kind, slot);
      if (!alive()) return false;
      counts.failures = ok ? 0 : counts.failures + 1;
      counts.successes = ok ? counts.successes + 1 : 0;
      if (kind === "startup" && ok) return true;
      if (kind === "readiness") {
        this.setReady(slot, readiness(slot.ready, ok, counts, { failureThreshold, successThreshold }));
      } else if (counts.failures >= failureThreshold) {
        this.failedProbe(slot, kind, probe);
        return false;
      }
      await sleep((probe.periodSeconds ?? 10) * 1000);
    }
    return false;
  }

  private failedProbe(slot: Slot, kind: string, probe: V1Probe): void {
    this.deps.log(`pod ${this.ns}/${this.name} container ${slot.spec.name}: failed ${kind} probe, will be restarted`);
    this.event(slot, "Warning", "Unhealthy", `${kind === "liveness" ? "Liveness" : "Startup"} probe failed`);
    this.event(slot, "Normal", "Killing", `Container ${slot.spec.name} failed ${kind} probe, will be restarted`);
    void this.stopContainer(slot, this.graceSeconds(probe.terminationGracePeriodSeconds));
  }

  /** A probe that cannot even be attempted (bad port name) fails, and says why in the kubelet log. */
  private async probeOnce(probe: V1Probe, target: ProbeTarget, kind: string, slot: Slot): Promise<boolean> {
    try {
      return await runProbe(probe, target);
    } catch (err) {
      this.deps.log(`pod ${this.ns}/${this.name} container ${slot.spec.name}: ${kind} probe error: ${message(err)}`);
      return false;
    }
  }

  /** Events are best effort, as in the kubelet: a failure is logged, never fatal to the pod. */
  private event(slot: Slot | undefined, type: "Normal" | "Warning", reason: string, text: string): void {
    this.deps.api.podEvent(this.pod, slot?.spec.name, type, reason, text).catch((err: unknown) => {
      this.deps.log(`pod ${this.ns}/${this.name}: event ${reason} not recorded: ${message(err)}`);
    });
  }

  private graceSeconds(override?: number): number {
    return override ?? this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** SIGTERM the container's process group, SIGKILL after the grace period. */
  private async stopContainer(slot: Slot, graceSeconds: number): Promise<void> {
    const child = slot.child;
    const pid = slot.pid;
    if (child === undefined || pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    signalGroup(pid, "SIGTERM");
    const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceSeconds * 1000);
    await exited;
    clearTimeout(timer);
  }

  /** The pod has a deletionTimestamp: stop its containers gracefully, then remove the object. */
  async terminate(): Promise<void> {
    if (this.terminating) return;
    this.terminating = true;
    this.stopped = true;
    this.cancelTimers();
    const grace = this.graceSeconds();
    this.deps.log(`pod ${this.ns}/${this.name}: terminating (grace ${grace}s)`);
    for (const s of this.allSlots()) if (s.pid !== undefined) this.event(s, "Normal", "Killing", `Stopping container ${s.spec.name}`);
    await Promise.all(this.allSlots().map((s) => this.stopContainer(s, grace)));
    try {
      await this.deps.api.deletePodNow(this.ns, this.name, this.uid);
    } catch (err) {
      this.deps.log(`pod ${this.ns}/${this.name}: final delete failed: ${message(err)}`);
    }
    this.cleanup();
  }

  /** No more starts or restarts; the processes are left to whoever stops the kubelet. */
  halt(): void {
    this.stopped = true;
    this.cancelTimers();
  }

  /** The pod object is gone (force-deleted): kill at once. */
  kill(): void {
    this.halt();
    for (const s of this.allSlots()) if (s.pid !== undefined) signalGroup(s.pid, "SIGKILL");
    this.cleanup();
  }

  private allSlots(): Slot[] {
    return [...this.initSlots, ...this.slots];
  }

  private cancelTimers(): void {
    for (const s of this.allSlots()) if (s.timer) clearTimeout(s.timer);
  }

  private cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private requestSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    void this.syncLoop();
  }

  private async syncLoop(): Promise<void> {
    do {
      this.syncAgain = false;
      if (this.terminating) break;
      const status = podStatus(
        this.pod,
        {
          containers: this.slots.map((s) => s.runtime()),
          initContainers: this.initSlots.map((s) => s.runtime()),
          initialized: this.initialized,
          initFailed: this.initFailed,
          startTime: this.startTime,
        },
        new Date(),
      );
      try {
        const updated = await this.deps.api.patchPodStatus(this.ns, this.name, status);
        if (updated) this.pod = { ...this.pod, status: updated.status };
      } catch (err) {
        this.deps.log(`pod ${this.ns}/${this.name}: status update failed (retrying): ${message(err)}`);
        this.syncAgain = true;
        await sleep(1000);
      }
    } while (this.syncAgain);
    this.syncing = false;
  }
}
