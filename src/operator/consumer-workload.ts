import type { V1Deployment, V1EnvVar, V1StatefulSet } from "@kubernetes/client-node";
import { PIPE_LABEL, type ClickPipe } from "../api/index.js";
import { buildConsumerDeployment, buildConsumerPodTemplate, desiredReplicas, workloadMetadata, type ConsumerConfig } from "./desired.js";
import { paths } from "./kube/apply.js";
import { cappedReplicas, consumerWorkloadKind, type ConsumerWorkloadKind } from "./source-support.js";

/**
 * Pure builders of the workload that runs a pipe's consumers. Sources whose replicas are
 * interchangeable get a Deployment; sources that split their work by a stable replica index
 * get a StatefulSet, whose pods keep their ordinal (0..n-1) across restarts and reschedules.
 */

/** The label the StatefulSet controller puts on each pod: its ordinal (Kubernetes 1.28+, GA in 1.32). */
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

/**
 * What a consumer of a StatefulSet learns of its place: the replica count as a literal, so a
 * new count changes the pod template and the StatefulSet rolls every pod (each then splits
 * the work anew), and its index from the pod-index label; the pod name (`<pipe>-<ordinal>`)
 * as a fallback where the cluster sets no such label (src/ingest/config.ts replicaOf).
 * The count never drops below 1: a stopped pipe runs no pods, and keeping the template as it
 * was means stopping and starting again rolls nothing.
 */
export function replicaIdentityEnv(pipe: ClickPipe): V1EnvVar[] {
  return [
    { name: "CLICKPIPES_REPLICAS", value: String(Math.max(1, cappedReplicas(pipe.spec))) },
    { name: "CLICKPIPES_REPLICA_INDEX", valueFrom: { fieldRef: { fieldPath: `metadata.labels['${POD_INDEX_LABEL}']` } } },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ];
}

/**
 * Consumers that need a stable replica index. Parallel pod management starts and stops pods
 * together (no reason to wait for ordinal 0 before 1); no governing Service: consumers are
 * not addressed by DNS, and the apiserver accepts an empty serviceName.
 */
export function buildConsumerStatefulSet(pipe: ClickPipe, config: ConsumerConfig): V1StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: workloadMetadata(pipe, config),
    spec: {
      replicas: desiredReplicas(pipe),
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { [PIPE_LABEL]: pipe.metadata.name } },
      template: buildConsumerPodTemplate(pipe, config, replicaIdentityEnv(pipe)),
    },
  };
}

/** The workload the pipe's source needs, with its kind. */
export function buildConsumerWorkload(pipe: ClickPipe, config: ConsumerConfig): { kind: ConsumerWorkloadKind; object: V1Deployment | V1StatefulSet } {
  const kind = consumerWorkloadKind(pipe.spec);
  return { kind, object: kind === "StatefulSet" ? buildConsumerStatefulSet(pipe, config) : buildConsumerDeployment(pipe, config) };
}

/** The other kind: a pipe's workload of this kind is left over from before and must go. */
export function otherWorkloadKind(kind: ConsumerWorkloadKind): ConsumerWorkloadKind {
  return kind === "StatefulSet" ? "Deployment" : "StatefulSet";
}

export function workloadPath(kind: ConsumerWorkloadKind, ns: string, name: string): string {
  return kind === "StatefulSet" ? paths.statefulSet(ns, name) : paths.deployment(ns, name);
}
