/**
 * ClickHouse errors as the HTTP interface reports them: `Code: N. DB::Exception: ... (NAME)
 * (version V)` in the body, the code in `X-ClickHouse-Exception-Code`, and the status that
 * ClickHouse's HTTPHandler (exceptionCodeToHTTPStatus) picks for the code.
 */
export class FrontError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = "FrontError";
  }
}

/** An error raised by the engine, keeping its own text (which already ends with `(NAME)`). */
export class EngineError extends FrontError {
  constructor(
    code: number,
    type: string,
    /** The engine's full text: `Code: N. DB::Exception: ... (NAME)`. */
    readonly engineText: string,
  ) {
    super(code, type, engineText);
    this.name = "EngineError";
  }
}

const ENGINE_ERROR = /Code: (\d+)\. DB::Exception: [\s\S]*\(([A-Z0-9_]+)\)\s*$/;
const ENGINE_CODE = /Code: (\d+)\./;

/** Map chDB's error text to code and name; unknown shapes become 1001 STD_EXCEPTION like a server's. */
export function parseEngineError(text: string): EngineError {
  // chDB's raw-insert path wraps the engine text once more: "Code: 27. DB::Exception: Code: 27. DB::Exception: ...".
  const trimmed = text.trimEnd().replace(/^(Code: \d+\. DB::Exception: )(?=Code: \d+\. DB::Exception: )/, "");
  const m = ENGINE_ERROR.exec(trimmed);
  if (m) return new EngineError(Number(m[1]), m[2] as string, trimmed);
  const code = ENGINE_CODE.exec(trimmed);
  if (code) return new EngineError(Number(code[1]), "UNKNOWN_EXCEPTION", `${trimmed}. (UNKNOWN_EXCEPTION)`);
  return new EngineError(1001, "STD_EXCEPTION", `Code: 1001. DB::Exception: ${trimmed}. (STD_EXCEPTION)`);
}

const FORBIDDEN = new Set(["UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE"]);

const BAD_REQUEST = new Set([
  "BAD_ARGUMENTS",
  "CANNOT_COMPILE_REGEXP",
  "CANNOT_PARSE_TEXT",
  "CANNOT_PARSE_ESCAPE_SEQUENCE",
  "CANNOT_PARSE_QUOTED_STRING",
  "CANNOT_PARSE_DATE",
  "CANNOT_PARSE_DATETIME",
  "CANNOT_PARSE_NUMBER",
  "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING",
  "CANNOT_PARSE_IPV4",
  "CANNOT_PARSE_IPV6",
  "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
  "CANNOT_PARSE_UUID",
  "CANNOT_PARSE_BOOL",
  "DUPLICATE_COLUMN",
  "ILLEGAL_COLUMN",
  "UNKNOWN_ELEMENT_IN_AST",
  "UNKNOWN_TYPE_OF_AST_NODE",
  "THERE_IS_NO_COLUMN",
  "TOO_DEEP_AST",
  "TOO_BIG_AST",
  "UNEXPECTED_AST_STRUCTURE",
  "SYNTAX_ERROR",
  "INCORRECT_DATA",
  "TYPE_MISMATCH",
  "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
]);

const NOT_FOUND = new Set([
  "UNKNOWN_TABLE",
  "UNKNOWN_FUNCTION",
  "UNKNOWN_IDENTIFIER",
  "UNKNOWN_TYPE",
  "UNKNOWN_STORAGE",
  "UNKNOWN_DATABASE",
  "UNKNOWN_SETTING",
  "UNKNOWN_DIRECTION_OF_SORTING",
  "UNKNOWN_AGGREGATE_FUNCTION",
  "UNKNOWN_FORMAT",
  "UNKNOWN_DATABASE_ENGINE",
  "UNKNOWN_TYPE_OF_QUERY",
  "UNKNOWN_ROLE",
]);

const OTHER_STATUS: Record<string, number> = {
  REQUIRED_PASSWORD: 401,
  QUERY_IS_TOO_LARGE: 413,
  NOT_IMPLEMENTED: 501,
  SOCKET_TIMEOUT: 503,
  CANNOT_OPEN_FILE: 503,
  CANNOT_SCHEDULE_TASK: 503,
  HTTP_LENGTH_REQUIRED: 411,
  TIMEOUT_EXCEEDED: 408,
};

/** The HTTP status ClickHouse answers with for an exception of this type. */
export function httpStatusFor(type: string): number {
  if (FORBIDDEN.has(type)) return 403;
  if (BAD_REQUEST.has(type)) return 400;
  if (NOT_FOUND.has(type)) return 404;
  return OTHER_STATUS[type] ?? 500;
}

/** The response body for an error, as `clickhouse-server` writes it. */
export function errorBody(err: FrontError, version: string): string {
  const text = err instanceof EngineError ? err.engineText : `Code: ${err.code}. DB::Exception: ${err.message}. (${err.type})`;
  return `${text} (version ${version})\n`;
}

/** Any thrown value as a FrontError (native errors carry the engine's text). */
export function toFrontError(err: unknown): FrontError {
  if (err instanceof FrontError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return parseEngineError(text);
}
