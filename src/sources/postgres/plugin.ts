import { secretReferences, type ClickPipeSpec } from "../../api/index.js";
import { lazyFunction, lazySource } from "../lazy.js";
import type { SourcePlugin } from "../plugin.js";
import { postgresSpec } from "./config.js";

function mode(spec: ClickPipeSpec): "continuous" | "oneShot" {
  return postgresSpec(spec).settings.replicationMode === "snapshot" ? "oneShot" : "continuous";
}

/**
 * Postgres CDC: a parallel initial load, then pgoutput logical replication
 * (docs/sources/postgres.md). The drivers load on first use, so consumers of other sources
 * do not pay for them.
 */
export const postgresPlugin: SourcePlugin = {
  kind: "postgres",
  // A slot has one reader: one consumer per pipe.
  capabilities: (spec) => ({ maxReplicas: 1, mode: mode(spec), lagUnit: "bytes", positions: "checkpointStore", replicaIdentity: "none", watchedByProbe: true, resync: mode(spec) === "continuous" }),
  virtualColumns: [],
  secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
  tables: (spec) => postgresSpec(spec).tableMappings.map((m) => m.targetTable),
  format: () => ({ format: "JSONEachRow" }),
  batchLimits: (spec) => {
    const s = postgresSpec(spec).settings;
    return { maxRows: s.pullBatchSize, maxWaitMs: s.syncIntervalSeconds * 1000 };
  },
  probe: lazyFunction(async () => (await import("./probe.js")).probePostgres),
  cleanUp: lazyFunction(async () => (await import("./probe.js")).cleanUpPostgres),
  prepareDestination: lazyFunction(async () => (await import("./prepare.js")).preparePostgresTargets),
  open: (ctx) => lazySource(async () => (await import("./open.js")).openPostgres(ctx)),
};
