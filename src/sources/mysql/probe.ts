import { createConnection } from "mysql2/promise";
import { type ClickPipe, ConditionReason } from "../../api/index.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import type { SourceProbeResult } from "../plugin.js";
import { readServerSettings, settingProblems } from "./checks.js";
import { mysqlSpec } from "./config.js";
import { openEndpoint } from "./endpoint.js";

type Reachability = SourceProbeResult["reachability"];

const AUTH_ERRNOS = new Set([1045, 1044, 1227]);

/** A failed connection as the operator's SourceReachable condition. */
export function classifyMysqlFailure(err: unknown, where: string): Reachability {
  const message = err instanceof Error ? err.message : String(err);
  const errno = typeof err === "object" && err !== null && "errno" in err ? (err).errno : undefined;
  if (typeof errno === "number" && AUTH_ERRNOS.has(errno)) return { ok: false, reason: ConditionReason.SourceAuthenticationFailed, message: `MySQL at ${where} rejected the credentials: ${message}` };
  return { ok: false, reason: ConditionReason.SourceUnreachable, message: `MySQL at ${where} did not answer: ${message}` };
}

/**
 * From the operator, with the pipe's credentials: connect and check the binlog settings CDC
 * needs. A server that answers but is not set up says what to change (SourceNotConfigured).
 */
export async function probeMysql(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<SourceProbeResult> {
  const spec = mysqlSpec(pipe.spec);
  const where = `${spec.host}:${spec.port}`;
  let endpoint;
  try {
    endpoint = await openEndpoint(spec, secrets);
  } catch (err) {
    return { reachability: classifyMysqlFailure(err, where) };
  }
  try {
    const conn = await createConnection({ ...endpoint.connection, connectTimeout: timeoutMs });
    try {
      const problems = settingProblems(await readServerSettings(conn));
      if (problems.length > 0) return { reachability: { ok: false, reason: ConditionReason.SourceNotConfigured, message: `MySQL at ${where} is not set up for CDC: ${problems.join("; ")}` } };
      return { reachability: { ok: true, reason: ConditionReason.SourceReachable, message: `MySQL at ${where} answers with a row-based binlog` } };
    } finally {
      // Closing a connection that broke can fail too; the outcome that matters is already decided.
      await conn.end().catch(() => undefined);
    }
  } catch (err) {
    return { reachability: classifyMysqlFailure(err, where) };
  } finally {
    await endpoint.close();
  }
}
