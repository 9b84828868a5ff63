import { parseError } from "@clickhouse/client";
import { describe, expect, it } from "vitest";
import { ClickHouseError, classifyClickHouseError } from "./errors.js";

/** Server error bodies as ClickHouse sends them, parsed the way @clickhouse/client parses them. */
function serverError(body: string): unknown {
  return parseError(body);
}

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("classifyClickHouseError", () => {
  it.each([
    ["Code: 159. DB::Exception: Timeout exceeded: elapsed 30.001 seconds, maximum: 30. (TIMEOUT_EXCEEDED) (version 24.8.4.13 (official build))", 159, "TIMEOUT_EXCEEDED"],
    [
      "Code: 252. DB::Exception: Too many parts (3001 with average size of 12.34 KiB) in table 'default.events (a1b2c3d4-0000-0000-0000-000000000000)'. Merges are processing significantly slower than inserts. (TOO_MANY_PARTS) (version 24.8.4.13 (official build))",
      252,
      "TOO_MANY_PARTS",
    ],
    [
      "Code: 241. DB::Exception: Memory limit (total) exceeded: would use 7.21 GiB (attempt to allocate chunk of 4219936 bytes), maximum: 7.20 GiB. OvercommitTracker decision: Query was selected to stop by OvercommitTracker.: While executing JSONEachRowRowInputFormat. (MEMORY_LIMIT_EXCEEDED) (version 23.8.2.7 (official build))",
      241,
      "MEMORY_LIMIT_EXCEEDED",
    ],
    ["Code: 210. DB::NetException: Connection reset by peer, while writing to socket ([::1]:9000 -> [::1]:55520). (NETWORK_ERROR) (version 24.3.1.1)", 210, "NETWORK_ERROR"],
    ["Code: 202. DB::Exception: Too many simultaneous queries. Maximum: 100. (TOO_MANY_SIMULTANEOUS_QUERIES) (version 24.3.1.1)", 202, "TOO_MANY_SIMULTANEOUS_QUERIES"],
    [
      "Code: 242. DB::Exception: Table is in readonly mode: replica_path=/clickhouse/tables/01/events/replicas/r1. (TABLE_IS_READ_ONLY) (version 24.3.1.1)",
      242,
      "TABLE_IS_READ_ONLY",
    ],
  ])("marks load and availability errors retriable: %s", (body, code, type) => {
    const e = classifyClickHouseError(serverError(body));
    expect(e).toMatchObject({ kind: "server", code, type, retriable: true, dataError: false });
    expect(e.message).toContain(`ClickHouse error ${code} (${type}): `);
  });

  it.each([
    [
      "Code: 62. DB::Exception: Syntax error: failed at position 1 (SELEC): SELEC 1. Expected one of: Query, Query with output, EXPLAIN. (SYNTAX_ERROR) (version 26.7.2.1)",
      62,
      "SYNTAX_ERROR",
    ],
    ["Code: 60. DB::Exception: Table default.nope does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)", 60, "UNKNOWN_TABLE"],
    ["Code: 81. DB::Exception: Database nope does not exist. (UNKNOWN_DATABASE) (version 24.3.1.1)", 81, "UNKNOWN_DATABASE"],
    [
      "Code: 516. DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 26.7.2.1)",
      516,
      "AUTHENTICATION_FAILED",
    ],
    [
      "Code: 497. DB::Exception: pipe_user: Not enough privileges. To execute this query, it's necessary to have the grant INSERT(id) ON default.events. (ACCESS_DENIED) (version 24.3.1.1)",
      497,
      "ACCESS_DENIED",
    ],
    ["Code: 16. DB::Exception: No such column nope in table default.events. (NO_SUCH_COLUMN_IN_TABLE) (version 24.3.1.1)", 16, "NO_SUCH_COLUMN_IN_TABLE"],
  ])("marks request errors not retriable: %s", (body, code, type) => {
    expect(classifyClickHouseError(serverError(body))).toMatchObject({ kind: "server", code, type, retriable: false, dataError: false });
  });

  it.each([
    [
      "Code: 27. DB::Exception: Cannot parse input: expected '\"' before: 'x\"}\\n': (while reading the value of key a): (at row 1)\n: While executing ParallelParsingBlockInputFormat: data for INSERT was parsed from query. (CANNOT_PARSE_INPUT_ASSERTION_FAILED) (version 26.7.2.1)",
      "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
    ],
    [
      "Code: 69. DB::Exception: Decimal value is too big: 10 digits were read: '1234567891'e-1. Expected to read decimal with scale 2 and precision 10: (while reading the value of key c): (at row 1). (ARGUMENT_OUT_OF_BOUND) (version 26.7.2.1)",
      "ARGUMENT_OUT_OF_BOUND",
    ],
    ["Code: 6. DB::Exception: Cannot parse string 'x' as Int32: syntax error at begin of string. (CANNOT_PARSE_TEXT) (version 26.7.2.1)", "CANNOT_PARSE_TEXT"],
  ])("marks rejected data as a data error, not retriable: %s", (body, type) => {
    expect(classifyClickHouseError(serverError(body))).toMatchObject({ kind: "server", type, retriable: false, dataError: true });
  });

  it("keeps the parsed type of codes it does not know", () => {
    const e = classifyClickHouseError(serverError("Code: 395. DB::Exception: Value passed to 'throwIf' function is non-zero. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO) (version 26.7.2.1)"));
    expect(e).toMatchObject({ code: 395, type: "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO", retriable: false });
  });

  it.each([
    [systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:8123"), "ECONNREFUSED"],
    [systemError("ECONNRESET", "read ECONNRESET"), "ECONNRESET"],
    [systemError("ETIMEDOUT", "connect ETIMEDOUT 10.0.0.1:8443"), "ETIMEDOUT"],
    [systemError("EAI_AGAIN", "getaddrinfo EAI_AGAIN clickhouse"), "EAI_AGAIN"],
    [new Error("Timeout error."), undefined],
    [systemError("ECONNRESET", "socket hang up"), "ECONNRESET"],
    [new Error("socket hang up"), undefined],
  ])("marks network failures retriable: %s", (err, code) => {
    const e = classifyClickHouseError(err);
    expect(e).toMatchObject({ kind: "network", code, retriable: true });
    expect(e.message).toBe(`cannot reach ClickHouse: ${err.message}`);
    expect(e.cause).toBe(err);
  });

  it("finds the socket error code in the cause", () => {
    const err = new Error("request failed", { cause: systemError("ECONNREFUSED", "connect ECONNREFUSED") });
    expect(classifyClickHouseError(err)).toMatchObject({ kind: "network", code: "ECONNREFUSED", retriable: true });
  });

  it("treats anything else as unknown and not retriable", () => {
    expect(classifyClickHouseError(new Error("<html>502 Bad Gateway</html>"))).toMatchObject({ kind: "unknown", retriable: false });
    expect(classifyClickHouseError("boom")).toMatchObject({ kind: "unknown", retriable: false, message: "non-error thrown by the ClickHouse client: boom" });
  });

  it("returns an already classified error unchanged", () => {
    const e = new ClickHouseError("x", { kind: "network", retriable: true, dataError: false });
    expect(classifyClickHouseError(e)).toBe(e);
  });
});
