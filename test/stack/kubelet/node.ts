import { V1MicroTime, type V1Node, type V1NodeCondition, type V1NodeStatus } from "@kubernetes/client-node";
import { isStatus, type KubeletApi } from "./api.js";

/** Node registration, node status and the heartbeat Lease in kube-node-lease. */

export interface NodeConfig {
  readonly name: string;
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
  readonly kubeletVersion: string;
  /** Port of the kubelet API (logs) on 127.0.0.1, published in status.daemonEndpoints. */
  readonly port: number;
}

const LEASE_NAMESPACE = "kube-node-lease";
const LEASE_SECONDS = 40;

function conditions(now: Date): V1NodeCondition[] {
  const ok = (type: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status: "False",
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return [
    ok("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ok("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ok("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    { type: "Ready", status: "True", reason: "KubeletReady", message: "test kubelet is posting ready status", lastHeartbeatTime: now, lastTransitionTime: now },
  ];
}

export function nodeStatus(config: NodeConfig, now: Date, previous: readonly V1NodeCondition[] = []): V1NodeStatus {
  const resources = { cpu: config.cpu, memory: config.memory, pods: config.pods, "ephemeral-storage": "100Gi" };
  return {
    capacity: resources,
    allocatable: resources,
    // Keep transition times of unchanged conditions so `kubectl describe node` reads true.
    conditions: conditions(now).map((c) => {
      const before = previous.find((p) => p.type === c.type);
      return before?.status === c.status && before.lastTransitionTime ? { ...c, lastTransitionTime: before.lastTransitionTime } : c;
    }),
    // No Hostname address: the apiserver would prefer it for `kubectl logs`, and the node
    // name does not resolve; InternalIP is what it must dial.
    addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
    daemonEndpoints: { kubeletEndpoint: { Port: config.port } },
    nodeInfo: {
      machineID: config.name,
      systemUUID: config.name,
      bootID: String(process.pid),
      kernelVersion: process.version,
      osImage: "clickpipes test kubelet",
      containerRuntimeVersion: "local://processes",
      kubeletVersion: config.kubeletVersion,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64",
    },
  };
}

export function nodeObject(config: NodeConfig, now: Date): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: config.name,
      labels: {
        "kubernetes.io/hostname": config.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
      },
    },
    spec: {},
    status: nodeStatus(config, now),
  };
}

export async function registerNode(api: KubeletApi, config: NodeConfig): Promise<string> {
  const now = new Date();
  let node = await api.readNode(config.name);
  if (node === undefined) {
    try {
      node = await api.createNode(nodeObject(config, now));
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      node = await api.readNode(config.name);
    }
  }
  await api.patchNodeStatus(config.name, nodeStatus(config, now, node?.status?.conditions));
  return node?.metadata?.uid ?? "";
}

export async function renewLease(api: KubeletApi, config: NodeConfig, nodeUid: string): Promise<void> {
  const existing = await api.readLease(LEASE_NAMESPACE, config.name);
  // renewTime is a MicroTime: the apiserver rejects a plain Date's millisecond ISO string.
  const spec = { holderIdentity: config.name, leaseDurationSeconds: LEASE_SECONDS, renewTime: new V1MicroTime() };
  if (existing === undefined) {
    await api.createLease(LEASE_NAMESPACE, {
      metadata: {
        name: config.name,
        namespace: LEASE_NAMESPACE,
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: config.name, uid: nodeUid }],
      },
      spec,
    });
    return;
  }
  await api.replaceLease(LEASE_NAMESPACE, config.name, { ...existing, spec: { ...existing.spec, ...spec } });
}

export async function heartbeat(api: KubeletApi, config: NodeConfig): Promise<void> {
  const node = await api.readNode(config.name);
  await api.patchNodeStatus(config.name, nodeStatus(config, new Date(), node?.status?.conditions));
}
