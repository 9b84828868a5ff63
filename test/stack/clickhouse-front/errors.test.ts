import { describe, expect, it } from "vitest";
import { errorBody, FrontError, httpStatusFor, parseEngineError } from "./errors.js";

describe("engine errors", () => {
  it("parses chDB's text into code and name and keeps it for the body", () => {
    const e = parseEngineError("Code: 60. DB::Exception: Unknown table expression identifier 'nope' in scope SELECT * FROM nope. (UNKNOWN_TABLE)");
    expect([e.code, e.type]).toEqual([60, "UNKNOWN_TABLE"]);
    expect(errorBody(e, "26.7.2.1")).toBe("Code: 60. DB::Exception: Unknown table expression identifier 'nope' in scope SELECT * FROM nope. (UNKNOWN_TABLE) (version 26.7.2.1)\n");
  });

  it("drops the duplicated prefix chDB's raw-insert path adds", () => {
    const e = parseEngineError("Code: 27. DB::Exception: Code: 27. DB::Exception: Cannot parse input: expected '\"' before: 'x': (at row 1)\n: While executing ParallelParsingBlockInputFormat. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)");
    expect(e.type).toBe("CANNOT_PARSE_INPUT_ASSERTION_FAILED");
    expect(e.engineText.startsWith("Code: 27. DB::Exception: Cannot parse input")).toBe(true);
  });

  it("maps types to the statuses clickhouse-server uses", () => {
    expect(httpStatusFor("SYNTAX_ERROR")).toBe(400);
    expect(httpStatusFor("CANNOT_PARSE_DATETIME")).toBe(400);
    expect(httpStatusFor("AUTHENTICATION_FAILED")).toBe(403);
    expect(httpStatusFor("REQUIRED_PASSWORD")).toBe(401);
    expect(httpStatusFor("UNKNOWN_TABLE")).toBe(404);
    expect(httpStatusFor("UNKNOWN_DATABASE")).toBe(404);
    expect(httpStatusFor("TIMEOUT_EXCEEDED")).toBe(408);
    expect(httpStatusFor("MEMORY_LIMIT_EXCEEDED")).toBe(500);
  });

  it("formats the front's own errors like the server", () => {
    const e = new FrontError(516, "AUTHENTICATION_FAILED", "default: Authentication failed: password is incorrect, or there is no user with such name");
    expect(errorBody(e, "26.7.2.1")).toBe(
      "Code: 516. DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 26.7.2.1)\n",
    );
  });
});
