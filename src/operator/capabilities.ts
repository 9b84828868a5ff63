import { ConditionReason, sourceKind, type ClickPipe, type SourceKind } from "../api/index.js";
import type { Blocker } from "./status.js";

/** Source kinds whose consumers this release runs; the others are validated but not ingested yet. */
export const INGESTED_SOURCE_KINDS: readonly SourceKind[] = ["kafka"];

/**
 * A pipe whose source this release cannot ingest gets a condition instead of consumers that
 * would crash-loop on start.
 */
export function unsupportedSource(pipe: ClickPipe): Blocker | undefined {
  const kind = sourceKind(pipe.spec);
  if (INGESTED_SOURCE_KINDS.includes(kind)) return undefined;
  return {
    on: "source",
    reason: ConditionReason.SourceNotSupported,
    message: `spec.source.${kind}: this release ingests ${INGESTED_SOURCE_KINDS.join(", ")} sources only; the pipe is accepted and kept, and no consumers are started`,
  };
}
