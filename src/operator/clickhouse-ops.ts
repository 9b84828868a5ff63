import { createHash } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client";
import { ConditionReason, pipeId, type ClickPipe } from "../api/index.js";
import { createClickHouseClient, type SqlRunner } from "../clickhouse/client.js";
import { LOG_TABLE } from "../clickhouse/ddl.js";
import { classifyClickHouseError, type ClickHouseError } from "../clickhouse/errors.js";
import { createPipeTables, pipeTableSpecs, type TableOutcome, type TableProblem } from "../clickhouse/pipe-tables.js";
import { createUserSql, dropUserSql, grantsSql, setPasswordSql, type PipePermissions } from "../clickhouse/users.js";
import { chTime } from "../ingest/sink.js";
import { sourcePlugin } from "../sources/registry.js";
import { clickhouseUserName } from "./desired.js";
import { endpointKey, type Endpoint } from "./clickhouse-readings.js";
import type { Blocker } from "./status.js";

/**
 * What the operator does in ClickHouse with an endpoint's admin credentials: the pipe's
 * tables and its own user (Setup), dropping that user on deletion, and the system error row
 * written when a pipe fails.
 */

/** `grants`: the fingerprint of the grants the pipe's user now has (recorded on its Secret). */
export type SetupOutcome = { readonly ok: true; readonly grants?: string } | { readonly ok: false; readonly blocker: Blocker };

/** Thrown when ClickHouse cannot be reached: retried, and reported as DestinationReachable=False. */
/** A short, stable fingerprint of a user's grant statements. */
export function grantsFingerprint(grants: readonly string[]): string {
  return createHash("sha256").update(grants.join("\n")).digest("hex").slice(0, 16);
}

export class DestinationUnavailableError extends Error {
  constructor(readonly detail: ClickHouseError) {
    super(detail.message, { cause: detail });
    this.name = "DestinationUnavailableError";
  }
}

function permissionsOf(pipe: ClickPipe): PipePermissions {
  const d = pipe.spec.destination;
  if (d.permissions === "customRole") return { kind: "customRole", role: d.customRole ?? "" };
  return { kind: d.permissions };
}

const problemReason: Readonly<Record<TableProblem, ConditionReason>> = {
  TableNotFound: ConditionReason.TableNotFound,
  SchemaMismatch: ConditionReason.SchemaMismatch,
  InvalidSpec: ConditionReason.InvalidSpec,
};

/** The blocker of the tables that cannot work, named all at once so one spec change can fix them all. */
export function tablesBlocker(outcomes: readonly TableOutcome[]): Blocker | undefined {
  const failed = outcomes.flatMap((o) => (o.ok ? [] : [o]));
  const first = failed[0];
  if (first === undefined) return undefined;
  return { on: "destination", reason: problemReason[first.problem], message: failed.map((f) => f.message).join("; ") };
}

/** Tables the pipe writes: the source plugin's list; for a source this build does not ingest, destination.table. */
function pipeTables(pipe: ClickPipe): string[] {
  const table = pipe.spec.destination.table;
  return sourcePlugin(pipe.spec)?.tables(pipe.spec) ?? (table === undefined ? [] : [table]);
}

/** The source records its finished files in a table of its own (object storage). */
function filesTableOf(pipe: ClickPipe): boolean {
  return sourcePlugin(pipe.spec)?.capabilities(pipe.spec).filesTable === true;
}

/** The ClickHouse failures that say "this spec cannot work here" rather than "try later". */
function blockerFor(step: string, error: ClickHouseError, pipe: ClickPipe): Blocker {
  const d = pipe.spec.destination;
  if (error.type === "UNKNOWN_DATABASE" || error.code === 81) {
    return { on: "destination", reason: ConditionReason.DatabaseNotFound, message: `database ${d.database} does not exist on ${d.clickhouse.url}: create it or change spec.destination.database` };
  }
  if (error.type === "AUTHENTICATION_FAILED" || error.code === 516) {
    return { on: "destination", reason: ConditionReason.DestinationAuthenticationFailed, message: `ClickHouse rejected the credentials of Secret ${d.clickhouse.credentialsSecretRef.name}: fix its username/password` };
  }
  const reason = step === "user" ? ConditionReason.UserSetupFailed : ConditionReason.InternalError;
  const denied = error.type === "ACCESS_DENIED" || error.code === 497;
  const hint =
    step === "user"
      ? " (the admin user needs access management: CREATE USER and GRANT ... WITH GRANT OPTION; see docs/security.md)"
      : denied
        ? ` (the admin user needs CREATE TABLE, ALTER ADD/MODIFY COLUMN and SELECT on ${d.database}.*; see docs/security.md)`
        : "";
  return { on: step === "user" ? "setup" : "destination", reason, message: `${step} setup failed on ${d.clickhouse.url}: ${error.message}${hint}` };
}

export class ClickHouseOps {
  private readonly clients = new Map<string, ClickHouseClient>();

  constructor(private readonly onQuery: (kind: string) => void = () => undefined) {}

  client(endpoint: Endpoint): ClickHouseClient {
    const key = endpointKey(endpoint, "");
    let c = this.clients.get(key);
    if (!c) {
      c = createClickHouseClient({ url: endpoint.url, username: endpoint.username, password: endpoint.password }, { requestTimeoutMs: 30_000, application: "clickpipes-operator", maxOpenConnections: 2 });
      this.clients.set(key, c);
    }
    return c;
  }

  async query(endpoint: Endpoint, sql: string): Promise<Record<string, unknown>[]> {
    this.onQuery("read");
    const result = await this.client(endpoint).query({ query: sql, format: "JSONEachRow" });
    return result.json<Record<string, unknown>>();
  }

  private async command(endpoint: Endpoint, sql: string, kind: string): Promise<void> {
    this.onQuery(kind);
    await this.client(endpoint).command({ query: sql });
  }

  /** The endpoint's client for table setup, each query counted by kind. */
  private counted(endpoint: Endpoint): SqlRunner {
    const client = this.client(endpoint);
    return {
      query: (params) => {
        this.onQuery("read");
        return client.query(params);
      },
      command: (params) => {
        this.onQuery("ddl");
        return client.command(params);
      },
    };
  }

  /**
   * Creates every table the pipe writes (each managed destination table, each error table,
   * clickpipes_log and clickpipes_state, migrated to today's shape) and checks the existing
   * ones, then the pipe's user with its grants on all of them; the consumers, which run no
   * DDL, start only after this. A network failure throws DestinationUnavailableError; a spec
   * that cannot work returns its blocker.
   */
  async setup(pipe: ClickPipe, endpoint: Endpoint, password: string, previousGrants?: string): Promise<SetupOutcome> {
    let step = "table";
    try {
      const tables = pipeTables(pipe);
      if (tables.length === 0) return { ok: false, blocker: { on: "destination", reason: ConditionReason.InvalidSpec, message: "spec.destination.table is required for this source" } };
      const blocker = tablesBlocker(await createPipeTables(this.counted(endpoint), pipeTableSpecs(pipe.spec, tables, { sourceShaped: sourcePlugin(pipe.spec)?.prepareDestination !== undefined, filesTable: filesTableOf(pipe) })));
      if (blocker) return { ok: false, blocker };
      step = "user";
      return { ok: true, grants: await this.user(pipe, endpoint, password, tables, previousGrants) };
    } catch (error) {
      const e = classifyClickHouseError(error);
      if (e.kind === "network") throw new DestinationUnavailableError(e);
      return { ok: false, blocker: blockerFor(step, e, pipe) };
    }
  }

  /**
   * The pipe's user with exactly its grants; returns their fingerprint. Grants only add, so
   * when they differ from those last set up (`previousGrants`: permissions narrowed, a table
   * dropped from the pipe) the user is dropped and created again first. Its consumers see one
   * refused login at most, retried like any system error.
   */
  private async user(pipe: ClickPipe, endpoint: Endpoint, password: string, tables: readonly string[], previousGrants: string | undefined): Promise<string> {
    const d = pipe.spec.destination;
    const user = clickhouseUserName(pipe);
    const grants = grantsSql(permissionsOf(pipe), d.database, tables, user, { exactlyOnce: pipe.spec.settings.exactlyOnce, sourcePrivileges: sourcePlugin(pipe.spec)?.sourcePrivileges?.(pipe.spec) ?? [], filesTable: filesTableOf(pipe) });
    const fingerprint = grantsFingerprint(grants);
    if (previousGrants !== undefined && previousGrants !== fingerprint) await this.command(endpoint, dropUserSql(user), "user");
    await this.command(endpoint, createUserSql(user, password, d.database), "user");
    await this.command(endpoint, setPasswordSql(user, password), "user");
    for (const sql of grants) await this.command(endpoint, sql, "user");
    return fingerprint;
  }

  /** Drops the pipe's user; a network failure throws DestinationUnavailableError. */
  async dropUser(pipe: ClickPipe, endpoint: Endpoint): Promise<void> {
    try {
      await this.command(endpoint, dropUserSql(clickhouseUserName(pipe)), "user");
    } catch (error) {
      const e = classifyClickHouseError(error);
      if (e.kind === "network") throw new DestinationUnavailableError(e);
      throw e;
    }
  }

  /** The system error row of a pipe the operator failed, where the consumers log theirs. */
  async logSystemError(pipe: ClickPipe, endpoint: Endpoint, errorType: string, message: string): Promise<void> {
    this.onQuery("insert");
    await this.client(endpoint).insert({
      table: `${pipe.spec.destination.database}.${LOG_TABLE}`,
      values: [{ time: chTime(Date.now()), pipe: pipeId(pipe), level: "error", error_type: errorType, message }],
      format: "JSONEachRow",
    });
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await c.close();
    this.clients.clear();
  }
}
