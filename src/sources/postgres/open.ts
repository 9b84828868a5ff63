/** The Postgres source for one consumer: loaded on start (see ../lazy.ts), with pg and the replication client. */
import type { Source } from "../../ingest/source.js";
import type { SourceContext } from "../plugin.js";
import { pgEndpoint, postgresSpec } from "./config.js";
import { PostgresCdcSource } from "./source.js";

export function openPostgres(ctx: SourceContext): Source {
  return new PostgresCdcSource({
    pipe: ctx.pipe,
    endpoint: pgEndpoint(postgresSpec(ctx.pipe.spec), ctx.secrets),
    checkpoints: ctx.checkpoints,
    clickhouse: ctx.clickhouse,
    logger: ctx.logger,
    onFatal: ctx.onFatal,
    signal: ctx.signal,
  });
}
