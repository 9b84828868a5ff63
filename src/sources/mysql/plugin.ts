import { secretReferences } from "../../api/index.js";
import { lazyFunction, lazySource } from "../lazy.js";
import type { SourcePlugin } from "../plugin.js";
import { mysqlSpec } from "./config.js";

export { replicaServerId } from "./server-id.js";

/**
 * MySQL and MariaDB CDC: a snapshot, then the row-based binlog; positions in the checkpoint
 * store. The drivers load on first use, so consumers of other sources do not pay for them.
 */
export const mysqlPlugin: SourcePlugin = {
  kind: "mysql",
  // A binlog is one ordered stream: one consumer per pipe.
  capabilities: (spec) => ({
    maxReplicas: 1,
    mode: mysqlSpec(spec).settings.replicationMode === "snapshot" ? "oneShot" : "continuous",
    lagUnit: "ms",
    positions: "checkpointStore",
    replicaIdentity: "none",
    resync: mysqlSpec(spec).settings.replicationMode !== "snapshot",
  }),
  virtualColumns: [],
  secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
  tables: (spec) => mysqlSpec(spec).tableMappings.map((m) => m.targetTable),
  format: () => ({ format: "JSONEachRow" }),
  probe: lazyFunction(async () => (await import("./probe.js")).probeMysql),
  prepareDestination: lazyFunction(async () => {
    const { prepareMysqlTargets } = await import("./destination.js");
    return (ctx) => prepareMysqlTargets(mysqlSpec(ctx.pipe.spec), { secrets: ctx.secrets, clickhouse: ctx.clickhouse, database: ctx.pipe.spec.destination.database, logger: ctx.logger });
  }),
  open: (ctx) => lazySource(async () => (await import("./open.js")).openMysql(ctx)),
};
