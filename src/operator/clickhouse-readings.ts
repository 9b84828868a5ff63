import { createHash } from "node:crypto";
import { ConditionReason } from "../api/index.js";
import { classifyClickHouseError } from "../clickhouse/errors.js";
import { quoteIdent, quoteString } from "../clickhouse/client.js";
import { resyncsOf } from "./resync.js";
import { snapshotProgress, snapshotSql, type SnapshotStreamRow, type TableSnapshotProgress } from "./snapshot-progress.js";
import type { ConsumerReports, LastError, PipeTotals, Reachability, SystemErrors } from "./status.js";

/**
 * What the consumers wrote to ClickHouse, read for every pipe of an endpoint at once: one
 * grouped query per (endpoint, database) and refresh interval, however many pipes share it,
 * instead of one per pipe.
 */

export interface Endpoint {
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

/** Runs one read query and returns its rows (JSONEachRow); a real client or a fake. */
export type Querier = (endpoint: Endpoint, sql: string) => Promise<Record<string, unknown>[]>;

export interface DatabaseReadings {
  readonly fetchedAt: number;
  /** Whether the endpoint answered; its failure message otherwise. */
  readonly reachability: Reachability;
  /** Per pipe id; empty when the endpoint could not be read. */
  readonly totals: ReadonlyMap<string, PipeTotals>;
  readonly system: ReadonlyMap<string, SystemErrors>;
  readonly lastRecordError: ReadonlyMap<string, LastError>;
  /** What the consumers said in clickpipes_log: their latest destination and source errors and phase. */
  readonly reports: ReadonlyMap<string, ConsumerReports>;
  /** Per pipe that wrote `snapshot/...` streams: its initial-load progress per table. */
  readonly snapshot?: ReadonlyMap<string, readonly TableSnapshotProgress[]>;
  /** Per pipe that resynced: the latest position of its `resync` stream (`<id>:done` once every table is swapped in). */
  readonly resync?: ReadonlyMap<string, string>;
}

export function endpointKey(endpoint: Endpoint, database: string): string {
  const secret = createHash("sha256").update(endpoint.password).digest("hex").slice(0, 12);
  return `${endpoint.url}|${endpoint.username}|${secret}|${database}`;
}

/** ClickHouse DateTime64 text in UTC (`2026-01-01 12:00:00.123`) as RFC 3339. */
export function chTimeToIso(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "" || value.startsWith("1970-01-01")) return undefined;
  return `${value.replace(" ", "T")}${value.includes(".") ? "" : ".000"}Z`;
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));
const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v));

/**
 * Counters and lag per pipe. Counters are deltas, so they are summed; lag is the backlog of
 * one stream at its latest batch, so the inner query takes each stream's latest value and
 * the outer one adds the streams up (records, bytes) and keeps the largest (ms behind the
 * tip). Exact whether or not parts have merged.
 */
export function stateSql(database: string): string {
  return `SELECT pipe, sum(r) AS total_rows, sum(b) AS total_bytes, sum(e) AS total_record_errors, max(t) AS latest_insert_time, sum(l) AS total_lag, max(l) AS max_lag
FROM (SELECT pipe, source_position, sum(rows) AS r, sum(bytes) AS b, sum(record_errors) AS e, max(last_insert_time) AS t, argMax(lag, last_insert_time) AS l
  FROM ${quoteIdent(database)}.clickpipes_state GROUP BY pipe, source_position)
GROUP BY pipe`;
}

/**
 * The log per pipe: error count and latest error, and the latest row of each kind the
 * consumers report (DESTINATION_ERROR, SOURCE_ERROR, PHASE). Aliases differ from column
 * names, which ClickHouse would otherwise substitute into the later aggregates.
 */
export function logSql(database: string): string {
  const latest = (column: string, where: string, alias: string): string => `argMaxIf(${column}, time, ${where}) AS ${alias}`;
  const kinds = (["DESTINATION_ERROR", "SOURCE_ERROR", "PHASE"] as const).map((kind) => {
    const where = `error_type = '${kind}'`;
    const prefix = kind.toLowerCase();
    return `maxIf(time, ${where}) AS ${prefix}_t, ${latest("message", where, `${prefix}_message`)}`;
  });
  return `SELECT pipe, countIf(level = 'error') AS n, maxIf(time, level = 'error') AS t, ${latest("error_type", "level = 'error'", "last_type")}, ${latest("message", "level = 'error'", "last_message")}, ${kinds.join(", ")}
FROM ${quoteIdent(database)}.clickpipes_log GROUP BY pipe`;
}

/** Every `<table>_clickpipes_error` of the database in one query, through the merge() table function. */
export function recordErrorsSql(database: string): string {
  return `SELECT pipe, max(time) AS t, argMax(error_type, time) AS last_type, argMax(message, time) AS last_message FROM merge(${quoteString(database)}, '_clickpipes_error$') GROUP BY pipe`;
}

/** A table that does not exist yet (no pipe has run here): no rows, not a failure. */
function isMissingTable(error: unknown): boolean {
  const e = classifyClickHouseError(error);
  // 636: merge() found no `<table>_clickpipes_error` table in the database
  return [60, 81, 636].includes(Number(e.code)) || ["UNKNOWN_TABLE", "UNKNOWN_DATABASE", "CANNOT_EXTRACT_TABLE_STRUCTURE"].includes(e.type ?? "");
}

async function rowsOrEmpty(query: Querier, endpoint: Endpoint, sql: string): Promise<Record<string, unknown>[]> {
  try {
    return await query(endpoint, sql);
  } catch (error) {
    if (isMissingTable(error)) return [];
    throw error;
  }
}

function lastErrorOf(row: Record<string, unknown>): LastError | undefined {
  const time = chTimeToIso(row.t);
  if (!time) return undefined;
  return { time, type: str(row.last_type), message: str(row.last_message) };
}

/** The latest row of one kind (`destination_error`, `source_error`, `phase`), if the pipe has one. */
function reportOf(row: Record<string, unknown>, prefix: string): { time: string; message: string } | undefined {
  const time = chTimeToIso(row[`${prefix}_t`]);
  return time ? { time, message: str(row[`${prefix}_message`]) } : undefined;
}

function reportsOf(row: Record<string, unknown>): ConsumerReports {
  const destinationError = reportOf(row, "destination_error");
  const sourceError = reportOf(row, "source_error");
  const phase = reportOf(row, "phase");
  return { ...(destinationError ? { destinationError } : {}), ...(sourceError ? { sourceError } : {}), ...(phase ? { phase } : {}) };
}

/** Snapshot progress per pipe from `snapshotSql` rows. */
function snapshotsOf(rows: readonly Record<string, unknown>[]): Map<string, readonly TableSnapshotProgress[]> {
  const streams = new Map<string, SnapshotStreamRow[]>();
  for (const r of rows) {
    const list = streams.get(str(r.pipe)) ?? [];
    list.push({ stream: str(r.stream), rows: num(r.stream_rows), position: str(r.stream_position) });
    streams.set(str(r.pipe), list);
  }
  const progress = [...streams].map(([pipe, list]) => [pipe, snapshotProgress(list)] as const);
  return new Map(progress.filter(([, tables]) => tables.length > 0));
}

export function unreachable(error: unknown): Reachability {
  const e = classifyClickHouseError(error);
  const auth = e.type === "AUTHENTICATION_FAILED" || e.code === 516 || e.code === 192 || e.code === 194;
  return {
    ok: false,
    reason: auth ? ConditionReason.DestinationAuthenticationFailed : ConditionReason.DestinationUnreachable,
    message: auth ? `ClickHouse rejected the admin credentials: ${e.message}` : `ClickHouse did not answer: ${e.message}`,
  };
}

export async function readDatabase(query: Querier, endpoint: Endpoint, database: string, now: number): Promise<DatabaseReadings> {
  try {
    const [totalsRows, logRows, errorRows] = [
      await rowsOrEmpty(query, endpoint, stateSql(database)),
      await rowsOrEmpty(query, endpoint, logSql(database)),
      await rowsOrEmpty(query, endpoint, recordErrorsSql(database)),
    ];
    const snapshotRows = await rowsOrEmpty(query, endpoint, snapshotSql(database));
    const totals = new Map<string, PipeTotals>();
    for (const r of totalsRows) {
      const last = chTimeToIso(r.latest_insert_time);
      totals.set(str(r.pipe), { rows: num(r.total_rows), bytes: num(r.total_bytes), recordErrors: num(r.total_record_errors), lag: num(r.total_lag), maxLag: num(r.max_lag), ...(last ? { lastInsertTime: last } : {}) });
    }
    const system = new Map<string, SystemErrors>();
    const reports = new Map<string, ConsumerReports>();
    for (const r of logRows) {
      const last = lastErrorOf(r);
      if (num(r.n) > 0) system.set(str(r.pipe), { count: num(r.n), ...(last ? { last } : {}) });
      reports.set(str(r.pipe), reportsOf(r));
    }
    const lastRecordError = new Map<string, LastError>();
    for (const r of errorRows) {
      const last = lastErrorOf(r);
      if (last) lastRecordError.set(str(r.pipe), last);
    }
    return { fetchedAt: now, reachability: { ok: true, reason: ConditionReason.DestinationReachable, message: "ClickHouse answered" }, totals, system, lastRecordError, reports, snapshot: snapshotsOf(snapshotRows), resync: resyncsOf(snapshotRows) };
  } catch (error) {
    return { fetchedAt: now, reachability: unreachable(error), totals: new Map(), system: new Map(), lastRecordError: new Map(), reports: new Map() };
  }
}

/** Readings per (endpoint, database), refreshed at most once per `maxAgeMs`, concurrent askers sharing one read. */
export class ReadingsCache {
  private readonly entries = new Map<string, DatabaseReadings>();
  private readonly inFlight = new Map<string, Promise<DatabaseReadings>>();

  constructor(
    private readonly query: Querier,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(endpoint: Endpoint, database: string): Promise<DatabaseReadings> {
    const key = endpointKey(endpoint, database);
    const cached = this.entries.get(key);
    if (cached && this.now() - cached.fetchedAt < this.maxAgeMs) return cached;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const read = readDatabase(this.query, endpoint, database, this.now()).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, read);
    const fresh = await read;
    this.entries.set(key, fresh);
    return fresh;
  }

  /** Forget an endpoint's readings so the next ask reads afresh (e.g. right after setup). */
  invalidate(endpoint: Endpoint, database: string): void {
    this.entries.delete(endpointKey(endpoint, database));
  }
}
