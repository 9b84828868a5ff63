import { createHash } from "node:crypto";
import { pipeId, secretReferences } from "../../api/index.js";
import type { SourcePlugin } from "../plugin.js";
import { mysqlSpec } from "./config.js";
import { prepareMysqlTargets } from "./destination.js";
import { openEndpoint } from "./endpoint.js";
import { probeMysql } from "./probe.js";
import { MysqlCdcSource } from "./source.js";

/**
 * The server id the binlog reader announces: stable per pipe, so a restarted consumer
 * replaces its own replica connection, and distinct between pipes (a server drops the older
 * of two replicas with one id). Kept clear of small ids that real servers use.
 */
export function replicaServerId(pipe: string): number {
  return 0x1000_0000 + (createHash("sha256").update(pipe).digest().readUInt32BE(0) % 0x6fff_ffff);
}

/** MySQL and MariaDB CDC: a snapshot, then the row-based binlog; positions in the checkpoint store. */
export const mysqlPlugin: SourcePlugin = {
  kind: "mysql",
  // A binlog is one ordered stream: one consumer per pipe.
  capabilities: (spec) => ({
    maxReplicas: 1,
    mode: mysqlSpec(spec).settings.replicationMode === "snapshot" ? "oneShot" : "continuous",
    lagUnit: "ms",
    positions: "checkpointStore",
    replicaIdentity: "none",
  }),
  virtualColumns: [],
  secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
  tables: (spec) => mysqlSpec(spec).tableMappings.map((m) => m.targetTable),
  format: () => ({ format: "JSONEachRow" }),
  probe: probeMysql,
  prepareDestination: (ctx) => prepareMysqlTargets(mysqlSpec(ctx.pipe.spec), { secrets: ctx.secrets, clickhouse: ctx.clickhouse, database: ctx.pipe.spec.destination.database, logger: ctx.logger }),
  open(ctx) {
    const spec = mysqlSpec(ctx.pipe.spec);
    return new MysqlCdcSource({
      spec,
      endpoint: () => openEndpoint(spec, ctx.secrets),
      database: ctx.pipe.spec.destination.database,
      // The destination is part of the identity: two pipes of one name (two clusters) reading one server must not evict each other.
      serverId: replicaServerId(`${pipeId(ctx.pipe)}@${ctx.pipe.spec.destination.clickhouse.url}/${ctx.pipe.spec.destination.database}`),
      checkpoints: ctx.checkpoints,
      ...(ctx.clickhouse === undefined ? {} : { clickhouse: ctx.clickhouse }),
      logger: ctx.logger,
      onFatal: ctx.onFatal,
    });
  },
};
