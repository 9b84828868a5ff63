/**
 * Maps whatever @clickhouse/client throws (a server exception, a socket error, its own
 * request timeout) into one typed error that says whether trying again can help.
 */
import { ClickHouseError as ClientServerError } from "@clickhouse/client";

/** Server exception types that are about load or availability, not about the request. */
const retriableTypes: ReadonlySet<string> = new Set([
  "TIMEOUT_EXCEEDED",
  "TOO_SLOW",
  "TOO_MANY_PARTS",
  "MEMORY_LIMIT_EXCEEDED",
  "CANNOT_ALLOCATE_MEMORY",
  "NETWORK_ERROR",
  "SOCKET_TIMEOUT",
  "NO_FREE_CONNECTION",
  "ALL_CONNECTION_TRIES_FAILED",
  "TOO_MANY_SIMULTANEOUS_QUERIES",
  "TABLE_IS_READ_ONLY",
  "KEEPER_EXCEPTION",
  "UNKNOWN_STATUS_OF_INSERT",
  "QUERY_WAS_CANCELLED",
  "CANNOT_SCHEDULE_TASK",
  "SERVER_OVERLOADED",
  "ABORTED",
  "UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE",
]);

/**
 * Types of the codes this module decides on. The client reads the type from the first
 * `(UPPERCASE)` group of the message, which for a syntax error is the offending token
 * (`failed at position 1 (SELEC)`), so a known code wins over the parsed type.
 */
const typesByCode: ReadonlyMap<number, string> = new Map([
  [6, "CANNOT_PARSE_TEXT"],
  [16, "NO_SUCH_COLUMN_IN_TABLE"],
  [25, "CANNOT_PARSE_ESCAPE_SEQUENCE"],
  [26, "CANNOT_PARSE_QUOTED_STRING"],
  [27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED"],
  [33, "CANNOT_READ_ALL_DATA"],
  [38, "CANNOT_PARSE_DATE"],
  [41, "CANNOT_PARSE_DATETIME"],
  [47, "UNKNOWN_IDENTIFIER"],
  [53, "TYPE_MISMATCH"],
  [57, "TABLE_ALREADY_EXISTS"],
  [60, "UNKNOWN_TABLE"],
  [62, "SYNTAX_ERROR"],
  [69, "ARGUMENT_OUT_OF_BOUND"],
  [72, "CANNOT_PARSE_NUMBER"],
  [81, "UNKNOWN_DATABASE"],
  [117, "INCORRECT_DATA"],
  [131, "TOO_LARGE_STRING_SIZE"],
  [159, "TIMEOUT_EXCEEDED"],
  [160, "TOO_SLOW"],
  [164, "READONLY"],
  [173, "CANNOT_ALLOCATE_MEMORY"],
  [202, "TOO_MANY_SIMULTANEOUS_QUERIES"],
  [203, "NO_FREE_CONNECTION"],
  [209, "SOCKET_TIMEOUT"],
  [210, "NETWORK_ERROR"],
  [236, "ABORTED"],
  [241, "MEMORY_LIMIT_EXCEEDED"],
  [242, "TABLE_IS_READ_ONLY"],
  [252, "TOO_MANY_PARTS"],
  [279, "ALL_CONNECTION_TRIES_FAILED"],
  [286, "UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE"],
  [319, "UNKNOWN_STATUS_OF_INSERT"],
  [376, "CANNOT_PARSE_UUID"],
  [394, "QUERY_WAS_CANCELLED"],
  [407, "DECIMAL_OVERFLOW"],
  [439, "CANNOT_SCHEDULE_TASK"],
  [497, "ACCESS_DENIED"],
  [516, "AUTHENTICATION_FAILED"],
  [999, "KEEPER_EXCEPTION"],
]);

/**
 * Server exception types caused by the inserted data itself: the batch can be split to
 * find the offending rows, which then go to the error table.
 */
const dataErrorTypes: ReadonlySet<string> = new Set([
  "CANNOT_PARSE_TEXT",
  "CANNOT_PARSE_ESCAPE_SEQUENCE",
  "CANNOT_PARSE_QUOTED_STRING",
  "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
  "CANNOT_PARSE_DATE",
  "CANNOT_PARSE_DATETIME",
  "CANNOT_PARSE_NUMBER",
  "CANNOT_PARSE_UUID",
  "CANNOT_PARSE_IPV4",
  "CANNOT_PARSE_IPV6",
  "CANNOT_PARSE_BOOL",
  "CANNOT_READ_ALL_DATA",
  "INCORRECT_DATA",
  "TYPE_MISMATCH",
  "ARGUMENT_OUT_OF_BOUND",
  "DECIMAL_OVERFLOW",
  "TOO_LARGE_STRING_SIZE",
  "UNKNOWN_ELEMENT_OF_ENUM",
  "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
  "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN",
  "INCORRECT_JSON",
  "ILLEGAL_COLUMN",
]);

/** Node socket and DNS error codes: the server (or the path to it) is away for now. */
const retriableSystemCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ESOCKETTIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Messages of transport failures that carry no code (the client's own timeout, an aborted socket). */
const retriableMessages = ["Timeout error", "socket hang up", "other side closed", "Client network socket disconnected"];

export type ClickHouseErrorKind = "server" | "network" | "unknown";

export interface ClickHouseErrorDetails {
  readonly kind: ClickHouseErrorKind;
  /** Server exception code (60) or the system error code (`ECONNREFUSED`); undefined when unknown. */
  readonly code?: number | string;
  /** Server exception type, e.g. `UNKNOWN_TABLE`. */
  readonly type?: string;
  /** Trying the same request again later may succeed. */
  readonly retriable: boolean;
  /** The server rejected the inserted data itself (a parse or range error). */
  readonly dataError: boolean;
}

export class ClickHouseError extends Error implements ClickHouseErrorDetails {
  override readonly name = "ClickHouseError";
  readonly kind: ClickHouseErrorKind;
  readonly code: number | string | undefined;
  readonly type: string | undefined;
  readonly retriable: boolean;
  readonly dataError: boolean;

  constructor(message: string, details: ClickHouseErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = details.kind;
    this.code = details.code;
    this.type = details.type;
    this.retriable = details.retriable;
    this.dataError = details.dataError;
  }
}

function fromServer(err: ClientServerError): ClickHouseError {
  const code = Number(err.code);
  const type = typesByCode.get(code) ?? err.type;
  const retriable = type !== undefined && retriableTypes.has(type);
  const dataError = type !== undefined && dataErrorTypes.has(type);
  const label = `ClickHouse error ${code}${type === undefined ? "" : ` (${type})`}`;
  return new ClickHouseError(`${label}: ${err.message.trim()}`, { kind: "server", code, type, retriable, dataError }, { cause: err });
}

function systemCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function fromError(err: Error): ClickHouseError {
  const code = systemCode(err) ?? (err.cause instanceof Error ? systemCode(err.cause) : undefined);
  const network = (code !== undefined && retriableSystemCodes.has(code)) || retriableMessages.some((m) => err.message.includes(m));
  if (network) {
    return new ClickHouseError(`cannot reach ClickHouse: ${err.message}`, { kind: "network", code, retriable: true, dataError: false }, { cause: err });
  }
  return new ClickHouseError(err.message, { kind: "unknown", code, retriable: false, dataError: false }, { cause: err });
}

/** Classifies anything thrown by @clickhouse/client (or already classified) into a ClickHouseError. */
export function classifyClickHouseError(err: unknown): ClickHouseError {
  if (err instanceof ClickHouseError) return err;
  if (err instanceof ClientServerError) return fromServer(err);
  if (err instanceof Error) return fromError(err);
  return new ClickHouseError(`non-error thrown by the ClickHouse client: ${String(err)}`, { kind: "unknown", retriable: false, dataError: false });
}
