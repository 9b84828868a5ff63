import { ConditionReason, sourceKind, type ClickPipe, type ClickPipeSpec } from "../api/index.js";
import { ingestedKinds, sourcePlugin } from "../sources/registry.js";
import type { Blocker } from "./status.js";

/**
 * What the operator asks of a source, all through the registry: whether this build ingests
 * it, and how many consumers can share its work. Adding a source adds a plugin there; nothing
 * here names a kind.
 */

/**
 * A pipe whose source has no plugin gets a condition instead of consumers that would
 * crash-loop on start.
 */
export function unsupportedSource(pipe: ClickPipe): Blocker | undefined {
  if (sourcePlugin(pipe.spec) !== undefined) return undefined;
  return {
    on: "source",
    reason: ConditionReason.SourceNotSupported,
    message: `spec.source.${sourceKind(pipe.spec)}: this release ingests ${ingestedKinds().join(", ")} sources only; the pipe is accepted and kept, and no consumers are started`,
  };
}

/** spec.scaling.replicas capped at what the source can use (0 for a source this build does not ingest). */
export function cappedReplicas(spec: ClickPipeSpec): number {
  const plugin = sourcePlugin(spec);
  if (plugin === undefined) return 0;
  return Math.min(spec.scaling.replicas, plugin.capabilities(spec).maxReplicas);
}

/** What runs a pipe's consumers: a Deployment, or a StatefulSet where each replica needs a stable index. */
export type ConsumerWorkloadKind = "Deployment" | "StatefulSet";

/**
 * A source that splits its work by replica index (`replicaIdentity: "index"`) gets a
 * StatefulSet, whose pods keep their ordinal across restarts; every other source, and a kind
 * this build does not ingest, a Deployment.
 */
export function consumerWorkloadKind(spec: ClickPipeSpec): ConsumerWorkloadKind {
  return sourcePlugin(spec)?.capabilities(spec).replicaIdentity === "index" ? "StatefulSet" : "Deployment";
}
