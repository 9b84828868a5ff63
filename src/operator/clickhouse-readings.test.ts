import { ClickHouseError as ClientServerError } from "@clickhouse/client";
import { describe, expect, it } from "vitest";
import { chTimeToIso, ReadingsCache, readDatabase, stateSql, type Endpoint, type Querier } from "./clickhouse-readings.js";

const endpoint: Endpoint = { url: "http://ch:8123", username: "admin", password: "pw" };

function serverError(code: number, type: string, message: string): ClientServerError {
  return new ClientServerError({ message: `${message}. (${type}) (version 26.7.2.1)`, code: String(code), type });
}

const fixture: Querier = (_e, sql) => {
  if (sql.includes("clickpipes_state")) return Promise.resolve([{ pipe: "a/p1", total_rows: "120", total_bytes: "9000", total_record_errors: "4", latest_insert_time: "2026-01-01 12:00:00.123", total_lag: "17", max_lag: "11" }]);
  if (sql.includes("clickpipes_log")) {
    return Promise.resolve([
      {
        pipe: "a/p1",
        n: "2",
        t: "2026-01-01 11:00:00.000",
        last_type: "DESTINATION_ERROR",
        last_message: "Not enough privileges",
        destination_error_t: "2026-01-01 11:00:00.000",
        destination_error_message: "Not enough privileges",
        source_error_t: "1970-01-01 00:00:00.000",
        source_error_message: "",
        phase_t: "2026-01-01 10:00:00.000",
        phase_message: "Snapshot",
      },
      { pipe: "a/p2", n: "0", t: "1970-01-01 00:00:00.000", phase_t: "2026-01-01 10:00:00.000", phase_message: "Completed" },
    ]);
  }
  return Promise.resolve([{ pipe: "a/p1", t: "2026-01-01 11:30:00.500", last_type: "DECODE", last_message: "Unexpected token" }]);
};

describe("readDatabase", () => {
  it("turns the grouped rows into per-pipe totals and lag, system errors, consumer reports and the last record error", async () => {
    const r = await readDatabase(fixture, endpoint, "default", 1);
    expect(r.reachability.ok).toBe(true);
    expect(r.totals.get("a/p1")).toEqual({ rows: 120, bytes: 9000, recordErrors: 4, lag: 17, maxLag: 11, lastInsertTime: "2026-01-01T12:00:00.123Z" });
    expect(r.system.get("a/p1")).toEqual({ count: 2, last: { time: "2026-01-01T11:00:00.000Z", type: "DESTINATION_ERROR", message: "Not enough privileges" } });
    expect(r.system.has("a/p2")).toBe(false);
    expect(r.reports.get("a/p1")).toEqual({ destinationError: { time: "2026-01-01T11:00:00.000Z", message: "Not enough privileges" }, phase: { time: "2026-01-01T10:00:00.000Z", message: "Snapshot" } });
    expect(r.reports.get("a/p2")).toEqual({ phase: { time: "2026-01-01T10:00:00.000Z", message: "Completed" } });
    expect(r.lastRecordError.get("a/p1")).toEqual({ time: "2026-01-01T11:30:00.500Z", type: "DECODE", message: "Unexpected token" });
  });

  it("turns the snapshot streams into per-table progress for the pipes that have them", async () => {
    const q: Querier = (e, sql) =>
      sql.includes("'snapshot/'")
        ? Promise.resolve([
            { pipe: "a/p1", stream: "snapshot/orders", stream_rows: "0", stream_position: "done" },
            { pipe: "a/p1", stream: "snapshot/orders/0", stream_rows: "7", stream_position: "done" },
          ])
        : fixture(e, sql);
    const r = await readDatabase(q, endpoint, "default", 1);
    expect(r.snapshot?.get("a/p1")).toEqual([{ table: "orders", partitionsDone: 1, partitionsTotal: 1, rows: 7, completed: true }]);
    expect(r.snapshot?.has("a/p2")).toBe(false);
  });

  it("reads a database where no pipe has run yet as empty, not as unreachable", async () => {
    const q: Querier = (_e, sql) =>
      Promise.reject(
        sql.includes("merge(")
          ? serverError(636, "CANNOT_EXTRACT_TABLE_STRUCTURE", "There are no tables satisfied provided regexp")
          : serverError(60, "UNKNOWN_TABLE", "Unknown table expression identifier 'default.clickpipes_state'"),
      );
    const r = await readDatabase(q, endpoint, "default", 1);
    expect(r.reachability.ok).toBe(true);
    expect(r.totals.size).toBe(0);
  });

  it("reports an endpoint that does not answer, and one that rejects the credentials", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8123"), { code: "ECONNREFUSED" });
    const down = await readDatabase(() => Promise.reject(refused), endpoint, "default", 1);
    expect(down.reachability).toMatchObject({ ok: false, reason: "DestinationUnreachable" });
    expect(down.reachability.message).toContain("ECONNREFUSED");
    const denied = await readDatabase(() => Promise.reject(serverError(516, "AUTHENTICATION_FAILED", "admin: Authentication failed")), endpoint, "default", 1);
    expect(denied.reachability).toMatchObject({ ok: false, reason: "DestinationAuthenticationFailed" });
  });
});

describe("stateSql", () => {
  it("takes each stream's latest lag, then sums the streams per pipe, in one grouped query", () => {
    const sql = stateSql("db");
    expect(sql).toContain("argMax(lag, last_insert_time) AS l");
    expect(sql).toContain("GROUP BY pipe, source_position)");
    expect(sql).toMatch(/sum\(l\) AS total_lag[\s\S]*GROUP BY pipe$/);
  });
});

describe("ReadingsCache", () => {
  /** Queries in one read of a database: state totals, log, record errors, snapshot progress. */
  const PER_READ = 4;
  it("reads each endpoint and database once per interval however many pipes ask", async () => {
    let now = 0;
    let queries = 0;
    const q: Querier = (e, sql) => {
      queries++;
      return fixture(e, sql);
    };
    const cache = new ReadingsCache(q, 1000, () => now);
    await Promise.all(Array.from({ length: 50 }, () => cache.get(endpoint, "default")));
    expect(queries).toBe(PER_READ);
    now = 500;
    await cache.get(endpoint, "default");
    expect(queries).toBe(PER_READ);
    await cache.get(endpoint, "other");
    expect(queries).toBe(2 * PER_READ);
    now = 1500;
    await cache.get(endpoint, "default");
    expect(queries).toBe(3 * PER_READ);
  });
});

describe("chTimeToIso", () => {
  it("converts ClickHouse UTC text and treats the epoch (never) as absent", () => {
    expect(chTimeToIso("2026-01-01 12:00:00.123")).toBe("2026-01-01T12:00:00.123Z");
    expect(chTimeToIso("2026-01-01 12:00:00")).toBe("2026-01-01T12:00:00.000Z");
    expect(chTimeToIso("1970-01-01 00:00:00.000")).toBeUndefined();
    expect(chTimeToIso(undefined)).toBeUndefined();
  });
});
