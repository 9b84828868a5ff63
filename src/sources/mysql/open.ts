/** The MySQL source for one consumer: loaded on start (see ../lazy.ts), with mysql2 and zongji. */
import { pipeId } from "../../api/index.js";
import type { Source } from "../../ingest/source.js";
import type { SourceContext } from "../plugin.js";
import { requestedResync } from "../cdc/resync-plan.js";
import { mysqlSpec } from "./config.js";
import { openEndpoint } from "./endpoint.js";
import { replicaServerId } from "./server-id.js";
import { MysqlCdcSource } from "./source.js";

export function openMysql(ctx: SourceContext): Source {
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
    resyncId: requestedResync(ctx.pipe),
  });
}
