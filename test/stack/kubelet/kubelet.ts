import { Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { isStatus, KubeletApi } from "./api.js";
import { heartbeat, registerNode, renewLease, type NodeConfig } from "./node.js";
import { PodWorker, type WorkerDeps } from "./pod-worker.js";

/**
 * The test kubelet's control loop: keeps its Node Ready with a heartbeat Lease, and keeps
 * one PodWorker per pod bound to the node, fed by list + watch (re-listed whenever the
 * watch ends, so a dropped connection or a restarted apiserver loses nothing).
 */

export interface KubeletOptions {
  readonly node: NodeConfig;
  readonly leaseRenewMs: number;
  readonly nodeStatusMs: number;
  readonly workerDeps: Omit<WorkerDeps, "api">;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Kubelet {
  private readonly api: KubeletApi;
  private readonly workers = new Map<string, PodWorker>();
  private stopping = false;
  private watchAbort: AbortController | undefined;
  private nodeUid = "";

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: KubeletOptions,
  ) {
    this.api = new KubeletApi(kc);
  }

  private log(msg: string): void {
    this.options.workerDeps.log(msg);
  }

  async run(): Promise<void> {
    for (;;) {
      try {
        this.nodeUid = await registerNode(this.api, this.options.node);
        await renewLease(this.api, this.options.node, this.nodeUid);
        break;
      } catch (err) {
        this.log(`node registration failed (retrying): ${message(err)}`);
        await sleep(1000);
      }
    }
    this.log(`node ${this.options.node.name} registered`);
    void this.loop("lease", this.options.leaseRenewMs, () => renewLease(this.api, this.options.node, this.nodeUid));
    void this.loop("node status", this.options.nodeStatusMs, () => this.nodeHeartbeat());
    await this.podLoop();
  }

  private async nodeHeartbeat(): Promise<void> {
    try {
      await heartbeat(this.api, this.options.node);
    } catch (err) {
      // Someone deleted the Node: register it again, as the kubelet does.
      if (!isStatus(err, 404)) throw err;
      this.nodeUid = await registerNode(this.api, this.options.node);
    }
  }

  private async loop(what: string, everyMs: number, fn: () => Promise<void>): Promise<void> {
    while (!this.stopping) {
      await sleep(everyMs);
      try {
        await fn();
      } catch (err) {
        this.log(`${what} update failed: ${message(err)}`);
      }
    }
  }

  private async podLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        const { items, resourceVersion } = await this.api.listPods(this.options.node.name);
        this.reconcile(items);
        await this.watch(resourceVersion);
      } catch (err) {
        this.log(`pod list/watch failed (retrying): ${message(err)}`);
      }
      if (!this.stopping) await sleep(1000);
    }
  }

  private watch(resourceVersion: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onEvent = (type: string, obj: unknown): void => {
        if (type === "ERROR") {
          // 410 Gone and friends: end this watch; the loop re-lists.
          this.watchAbort?.abort();
          resolve();
          return;
        }
        if (type === "BOOKMARK") return;
        this.onPodEvent(type, obj as V1Pod);
      };
      new Watch(this.kc)
        .watch(
          "/api/v1/pods",
          { fieldSelector: `spec.nodeName=${this.options.node.name}`, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
          onEvent,
          (err: unknown) => (err instanceof Error && !this.stopping && err.name !== "AbortError" ? reject(err) : resolve()),
        )
        .then((abort) => (this.watchAbort = abort))
        .catch(reject);
    });
  }

  private onPodEvent(type: string, pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? "";
    if (type === "DELETED") {
      this.workers.get(uid)?.kill();
      this.workers.delete(uid);
      return;
    }
    this.upsert(pod);
  }

  private upsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? "";
    const existing = this.workers.get(uid);
    if (existing) return existing.update(pod);
    const worker = new PodWorker(pod, { ...this.options.workerDeps, api: this.api });
    this.workers.set(uid, worker);
    worker.start().catch((err: unknown) => this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: ${message(err)}`));
  }

  /** A fresh list is the truth: start what is new, forget what is gone. */
  private reconcile(pods: readonly V1Pod[]): void {
    const seen = new Set(pods.map((p) => p.metadata?.uid ?? ""));
    for (const [uid, worker] of this.workers) {
      if (seen.has(uid)) continue;
      worker.kill();
      this.workers.delete(uid);
    }
    for (const pod of pods) this.upsert(pod);
  }

  stop(): void {
    this.stopping = true;
    this.watchAbort?.abort();
    for (const worker of this.workers.values()) worker.halt();
  }
}
