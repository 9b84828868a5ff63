import { secretReferences, type ClickPipeSpec } from "../../api/index.js";
import type { SourcePlugin } from "../plugin.js";
import { sourceError } from "./catalog.js";
import { connectVia, pgEndpoint, postgresSpec } from "./config.js";
import { cleanUpPostgres, probePostgres } from "./probe.js";
import { PostgresCdcSource } from "./source.js";
import { createTargets, mappingsOf, readMapped } from "./tables.js";
import pg from "pg";

function mode(spec: ClickPipeSpec): "continuous" | "oneShot" {
  return postgresSpec(spec).settings.replicationMode === "snapshot" ? "oneShot" : "continuous";
}

/** Postgres CDC: a parallel initial load, then pgoutput logical replication (docs/sources/postgres.md). */
export const postgresPlugin: SourcePlugin = {
  kind: "postgres",
  // A slot has one reader: one consumer per pipe.
  capabilities: (spec) => ({ maxReplicas: 1, mode: mode(spec), lagUnit: "bytes", positions: "checkpointStore", replicaIdentity: "none", watchedByProbe: true }),
  virtualColumns: [],
  secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
  tables: (spec) => postgresSpec(spec).tableMappings.map((m) => m.targetTable),
  format: () => ({ format: "JSONEachRow" }),
  batchLimits: (spec) => {
    const s = postgresSpec(spec).settings;
    return { maxRows: s.pullBatchSize, maxWaitMs: s.syncIntervalSeconds * 1000 };
  },
  probe: probePostgres,
  cleanUp: cleanUpPostgres,
  async prepareDestination(ctx) {
    const spec = postgresSpec(ctx.pipe.spec);
    const via = await connectVia(pgEndpoint(spec, ctx.secrets));
    const client = new pg.Client(via.config);
    try {
      await client.connect().catch((err: unknown) => {
        throw sourceError(`cannot connect to Postgres ${spec.host}:${spec.port}/${spec.database}`, err, { host: spec.host });
      });
      await createTargets(ctx.clickhouse, ctx.pipe.spec.destination.database, await readMapped(client, mappingsOf(spec)));
    } finally {
      await client.end().catch(() => undefined);
      await via.tunnel?.close();
    }
  },
  open(ctx) {
    return new PostgresCdcSource({
      pipe: ctx.pipe,
      endpoint: pgEndpoint(postgresSpec(ctx.pipe.spec), ctx.secrets),
      checkpoints: ctx.checkpoints,
      clickhouse: ctx.clickhouse,
      logger: ctx.logger,
      onFatal: ctx.onFatal,
      signal: ctx.signal,
    });
  },
};
