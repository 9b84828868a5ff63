/** Creates the pipe's target tables from the source's catalog, before the core checks them (loaded on first use). */
import pg from "pg";
import { errorMessage } from "../../ingest/errors.js";
import type { DestinationContext } from "../plugin.js";
import { sourceError } from "./catalog.js";
import { connectVia, pgEndpoint, postgresSpec } from "./config.js";
import { createTargets, mappingsOf, readMapped } from "./tables.js";

export async function preparePostgresTargets(ctx: DestinationContext): Promise<void> {
  const spec = postgresSpec(ctx.pipe.spec);
  const via = await connectVia(pgEndpoint(spec, ctx.secrets));
  const client = new pg.Client(via.config);
  try {
    await client.connect().catch((err: unknown) => {
      throw sourceError(`cannot connect to Postgres ${spec.host}:${spec.port}/${spec.database}`, err, { host: spec.host });
    });
    await createTargets(ctx.clickhouse, ctx.pipe.spec.destination.database, await readMapped(client, mappingsOf(spec)));
  } finally {
    // Closing a connection that failed or broke can fail too; the outcome above is what matters.
    await client.end().catch((err: unknown) => ctx.logger.debug({ err: errorMessage(err) }, "closing the Postgres connection failed"));
    await via.tunnel?.close();
  }
}
