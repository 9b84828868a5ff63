import type { ClickHouseClient } from "@clickhouse/client";
import { ConditionReason, pipeId, type ClickPipe } from "../api/index.js";
import { createClickHouseClient } from "../clickhouse/client.js";
import { checkExistingTable, createTableSql, DdlError, describeMismatches, errorTableSql, logTableSql, readTableColumns, stateTableSql, LOG_TABLE } from "../clickhouse/ddl.js";
import { classifyClickHouseError, type ClickHouseError } from "../clickhouse/errors.js";
import { createUserSql, dropUserSql, grantsSql, setPasswordSql, type PipePermissions } from "../clickhouse/users.js";
import { chTime } from "../ingest/sink.js";
import { clickhouseUserName } from "./desired.js";
import { endpointKey, type Endpoint } from "./clickhouse-readings.js";
import type { Blocker } from "./status.js";

/**
 * What the operator does in ClickHouse with an endpoint's admin credentials: the pipe's
 * tables and its own user (Setup), dropping that user on deletion, and the system error row
 * written when a pipe fails.
 */

export type SetupOutcome = { readonly ok: true } | { readonly ok: false; readonly blocker: Blocker };

/** Thrown when ClickHouse cannot be reached: retried, and reported as DestinationReachable=False. */
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
  const hint = step === "user" ? " (the admin user needs access management: CREATE USER and GRANT ... WITH GRANT OPTION)" : "";
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

  /**
   * Creates the destination table (managedTable) or checks the existing one, the error,
   * log and state tables, and the pipe's user with its grants. A network failure throws
   * DestinationUnavailableError; a spec that cannot work returns its blocker.
   */
  async setup(pipe: ClickPipe, endpoint: Endpoint, password: string): Promise<SetupOutcome> {
    const step = { name: "table" };
    try {
      const blocker = await this.tables(pipe, endpoint, step);
      if (blocker) return { ok: false, blocker };
      step.name = "user";
      await this.user(pipe, endpoint, password);
      return { ok: true };
    } catch (error) {
      if (error instanceof DdlError) return { ok: false, blocker: { on: "destination", reason: ConditionReason.InvalidSpec, message: error.message } };
      const e = classifyClickHouseError(error);
      if (e.kind === "network") throw new DestinationUnavailableError(e);
      return { ok: false, blocker: blockerFor(step.name, e, pipe) };
    }
  }

  private async tables(pipe: ClickPipe, endpoint: Endpoint, step: { name: string }): Promise<Blocker | undefined> {
    const d = pipe.spec.destination;
    const table = d.table;
    if (table === undefined) return { on: "destination", reason: ConditionReason.InvalidSpec, message: "spec.destination.table is required for this source" };
    if (d.managedTable) {
      await this.command(endpoint, createTableSql(d), "ddl");
    } else {
      const actual = await readTableColumns(this.client(endpoint), d.database, table);
      this.onQuery("read");
      if (actual === undefined) {
        return { on: "destination", reason: ConditionReason.TableNotFound, message: `table ${d.database}.${table} does not exist and spec.destination.managedTable is false: create the table, or set managedTable: true with columns` };
      }
      const expected = [...(d.columns ?? []).map((c) => ({ name: c.name, type: c.type })), ...(pipe.spec.fieldMappings ?? []).map((m) => ({ name: m.destinationField }))];
      const mismatches = checkExistingTable(expected, actual);
      if (mismatches.length > 0) return { on: "destination", reason: ConditionReason.SchemaMismatch, message: describeMismatches(`${d.database}.${table}`, mismatches) };
    }
    step.name = "bookkeeping table";
    for (const sql of [errorTableSql(d.database, table), logTableSql(d.database), stateTableSql(d.database)]) await this.command(endpoint, sql, "ddl");
    return undefined;
  }

  private async user(pipe: ClickPipe, endpoint: Endpoint, password: string): Promise<void> {
    const d = pipe.spec.destination;
    const user = clickhouseUserName(pipe);
    await this.command(endpoint, createUserSql(user, password, d.database), "user");
    await this.command(endpoint, setPasswordSql(user, password), "user");
    for (const sql of grantsSql(permissionsOf(pipe), d.database, d.table ?? "", user)) await this.command(endpoint, sql, "user");
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
