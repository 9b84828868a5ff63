import { randomBytes } from "node:crypto";
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Lease,
  type V1Node,
  type V1Pod,
  type V1PodStatus,
} from "@kubernetes/client-node";
import type { ApiReader } from "./volumes.js";

/** The few API calls the test kubelet makes, with 404 mapped to undefined where absence is normal. */

export function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

function decode(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  return out;
}

export class KubeletApi implements ApiReader {
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(readonly kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  async configMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const cm = await orUndefined(this.core.readNamespacedConfigMap({ namespace, name }));
    if (cm === undefined) return undefined;
    return { ...(cm.data ?? {}), ...decode(cm.binaryData) };
  }

  async secret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const s = await orUndefined(this.core.readNamespacedSecret({ namespace, name }));
    if (s === undefined) return undefined;
    return { ...decode(s.data), ...(s.stringData ?? {}) };
  }

  async serviceAccountToken(namespace: string, serviceAccount: string, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const res = await this.core.createNamespacedServiceAccountToken({
      namespace,
      name: serviceAccount,
      body: { spec: { audiences: audience ? [audience] : [], expirationSeconds } },
    });
    return res.status?.token ?? "";
  }

  /** A pod event as the kubelet reports it (`kubectl describe pod` / `kubectl get events`). */
  async podEvent(pod: V1Pod, container: string | undefined, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "default";
    const now = new Date();
    const host = pod.spec?.nodeName ?? "";
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${pod.metadata?.name}.${randomBytes(8).toString("hex")}`, namespace },
        involvedObject: {
          apiVersion: "v1",
          kind: "Pod",
          name: pod.metadata?.name,
          namespace,
          uid: pod.metadata?.uid,
          fieldPath: container === undefined ? undefined : `spec.containers{${container}}`,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: "kubelet", host },
        reportingComponent: "kubelet",
        reportingInstance: host,
      },
    });
  }

  async patchPodStatus(namespace: string, name: string, status: V1PodStatus): Promise<V1Pod | undefined> {
    return orUndefined(
      this.core.patchNamespacedPodStatus({ namespace, name, body: { status } }, setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch)),
    );
  }

  async deletePodNow(namespace: string, name: string, uid: string): Promise<void> {
    await orUndefined(this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } }).then(() => undefined));
  }

  async listPods(nodeName: string): Promise<{ items: V1Pod[]; resourceVersion: string }> {
    const list = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  async readNode(name: string): Promise<V1Node | undefined> {
    return orUndefined(this.core.readNode({ name }));
  }

  async createNode(node: V1Node): Promise<V1Node> {
    return this.core.createNode({ body: node });
  }

  async patchNodeStatus(name: string, status: V1Node["status"]): Promise<void> {
    // A merge patch replaces lists whole: the kubelet owns the node's conditions and addresses.
    await this.core.patchNodeStatus({ name, body: { status } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  }

  async readLease(namespace: string, name: string): Promise<V1Lease | undefined> {
    return orUndefined(this.coordination.readNamespacedLease({ namespace, name }));
  }

  async createLease(namespace: string, lease: V1Lease): Promise<void> {
    await this.coordination.createNamespacedLease({ namespace, body: lease });
  }

  async replaceLease(namespace: string, name: string, lease: V1Lease): Promise<void> {
    await this.coordination.replaceNamespacedLease({ namespace, name, body: lease });
  }
}
