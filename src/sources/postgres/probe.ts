/**
 * The operator's view of a Postgres pipe, with the pipe's own credentials: reachability,
 * the WAL the pipe has not confirmed (lag, bytes) and the WAL its slot holds on the source's
 * disk (retained), and the clean-up on deletion of the slot and publication the pipe made.
 */
import pg from "pg";
import { ConditionReason, type ClickPipe } from "../../api/index.js";
import { errorMessage } from "../../ingest/errors.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import type { SourceProbeResult } from "../plugin.js";
import { connectVia, pgEndpoint, postgresSpec, replicationNames } from "./config.js";
import { dropOwned, slotWal } from "./slot.js";

/**
 * Past this much WAL held by the slot the probe says so (a stopped or stuck pipe fills the
 * source's disk): 1 GiB, or CLICKPIPES_PG_RETAINED_WAL_BYTES in the operator's environment.
 */
export function retainedWalThreshold(): number {
  const configured = Number(process.env.CLICKPIPES_PG_RETAINED_WAL_BYTES);
  return Number.isFinite(configured) && configured > 0 ? configured : 1024 * 1024 * 1024;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${n} bytes`;
}

async function withClient<T>(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const via = await connectVia(pgEndpoint(postgresSpec(pipe.spec), secrets, "clickpipes-operator"));
  const client = new pg.Client({ ...via.config, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs * 2 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
    await via.tunnel?.close();
  }
}

function unreachable(err: unknown): SourceProbeResult {
  const message = errorMessage(err);
  if (/password authentication failed|no pg_hba.conf entry|role .* does not exist/.test(message)) {
    return { reachability: { ok: false, reason: ConditionReason.SourceAuthenticationFailed, message: `Postgres refused the credentials: ${message}` } };
  }
  return { reachability: { ok: false, reason: ConditionReason.SourceUnreachable, message: `Postgres did not answer: ${message}` } };
}

export async function probePostgres(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<SourceProbeResult> {
  const names = replicationNames(pipe);
  try {
    return await withClient(pipe, secrets, timeoutMs, async (client) => {
      const wal = postgresSpec(pipe.spec).settings.replicationMode === "snapshot" ? undefined : await slotWal(client, names.slot);
      if (wal === undefined) return { reachability: { ok: true, reason: ConditionReason.SourceReachable, message: "Postgres answers" } };
      const held = `slot ${names.slot} holds ${formatBytes(wal.retainedBytes)} of WAL, ${formatBytes(wal.lagBytes)} not yet confirmed`;
      if (wal.retainedBytes > retainedWalThreshold()) {
        const message = `${held}: above ${formatBytes(retainedWalThreshold())}, the source's disk fills while the pipe does not confirm; run the pipe (state Running) or delete it to drop the slot`;
        return { reachability: { ok: true, reason: ConditionReason.SlotRetainedWalHigh, message }, lag: wal.lagBytes };
      }
      return { reachability: { ok: true, reason: ConditionReason.SourceReachable, message: `Postgres answers; ${held}` }, lag: wal.lagBytes };
    });
  } catch (err) {
    return unreachable(err);
  }
}

/** Drops the slot and publication the pipe created (never ones the spec names); returns what was dropped. */
export async function cleanUpPostgres(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<string[]> {
  return withClient(pipe, secrets, timeoutMs, (client) => dropOwned(client, replicationNames(pipe)));
}
