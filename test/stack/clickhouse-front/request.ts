/**
 * What a ClickHouse HTTP request asks for, read from its URL, headers and (for multipart)
 * body, following clickhouse-server's HTTPHandler: reserved parameters, `param_*` query
 * parameters, and every other parameter a setting.
 */
import { FrontError } from "./errors.js";

/** URL parameters the HTTP handler consumes itself; they are never settings. */
const RESERVED = new Set([
  "query",
  "database",
  "default_format",
  "query_id",
  "session_id",
  "session_timeout",
  "session_check",
  "close_session",
  "user",
  "password",
  "quota_key",
  "stacktrace",
  "role",
  "compress",
  "decompress",
  "buffer_size",
  "wait_end_of_query",
  "client_protocol_version",
]);

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface FrontRequest {
  readonly query: string | undefined;
  readonly database: string | undefined;
  readonly defaultFormat: string | undefined;
  readonly queryId: string | undefined;
  readonly sessionId: string | undefined;
  readonly sessionTimeoutSec: number;
  readonly sessionCheck: boolean;
  readonly closeSession: boolean;
  /** `param_x` values, still in ClickHouse's escaped text form (as the engine binds them). */
  readonly params: Record<string, string>;
  /** Every other URL parameter, applied as a query-level setting. */
  readonly settings: Map<string, string>;
}

const DEFAULT_SESSION_TIMEOUT_SEC = 60;
const MAX_SESSION_TIMEOUT_SEC = 3600;

function sessionTimeout(raw: string | null): number {
  if (raw === null) return DEFAULT_SESSION_TIMEOUT_SEC;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new FrontError(36, "BAD_ARGUMENTS", `Invalid session timeout: '${raw}'`);
  if (n > MAX_SESSION_TIMEOUT_SEC) {
    throw new FrontError(36, "BAD_ARGUMENTS", `Session timeout '${n}' is larger than max_session_timeout: ${MAX_SESSION_TIMEOUT_SEC}. Maximum session timeout could be modified in configuration file.`);
  }
  return n;
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Read the request's parameters; `extra` are form fields of a multipart body (query, param_*). */
export function parseRequest(search: URLSearchParams, extra: ReadonlyMap<string, string> = new Map()): FrontRequest {
  const params: Record<string, string> = {};
  const settings = new Map<string, string>();
  const all: [string, string][] = [...search.entries(), ...extra.entries()];
  for (const [key, value] of all) {
    if (key.startsWith("param_")) params[key.slice("param_".length)] = value;
    else if (!RESERVED.has(key)) {
      if (!SETTING_NAME.test(key)) throw new FrontError(115, "UNKNOWN_SETTING", `Unknown setting '${key}'`);
      settings.set(key, value);
    }
  }
  const query = extra.get("query") ?? search.get("query") ?? undefined;
  return {
    query,
    database: search.get("database") ?? undefined,
    defaultFormat: search.get("default_format") ?? undefined,
    queryId: search.get("query_id") ?? undefined,
    sessionId: search.get("session_id") ?? undefined,
    sessionTimeoutSec: sessionTimeout(search.get("session_timeout")),
    sessionCheck: search.get("session_check") === "1",
    closeSession: search.get("close_session") === "1",
    params,
    settings,
  };
}

/** Credentials from Basic auth, X-ClickHouse-User/Key, or user/password URL parameters (default: `default`, no password). */
export function parseCredentials(headers: Readonly<Record<string, string | string[] | undefined>>, search: URLSearchParams): Credentials {
  const header = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const authorization = header("authorization");
  const headerUser = header("x-clickhouse-user");
  const urlUser = search.get("user");
  const methods = [authorization !== undefined, headerUser !== undefined, urlUser !== null].filter(Boolean).length;
  if (methods > 1) {
    throw new FrontError(194, "REQUIRED_PASSWORD", "Invalid authentication: it is not allowed to use several authentication methods at the same time");
  }
  if (authorization !== undefined) {
    const m = /^Basic\s+(.+)$/i.exec(authorization.trim());
    if (!m) throw new FrontError(516, "AUTHENTICATION_FAILED", "Invalid authentication: only Basic authentication is supported");
    const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon === -1 ? { user: decoded, password: "" } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (headerUser !== undefined) return { user: headerUser, password: header("x-clickhouse-key") ?? "" };
  if (urlUser !== null) return { user: urlUser, password: search.get("password") ?? "" };
  return { user: "default", password: "" };
}

/** Form fields of a `multipart/form-data` body (clickhouse-js sends long query parameters this way). */
export function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new FrontError(36, "BAD_ARGUMENTS", "multipart/form-data without a boundary");
  const fields = new Map<string, string>();
  const text = body.toString("utf8");
  for (const part of text.split(`--${boundary}`)) {
    if (part.startsWith("--") || part.trim() === "") continue;
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd === -1) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, headerEnd))?.[1];
    if (name === undefined) continue;
    const value = part.slice(headerEnd + 4).replace(/\r\n$/, "");
    if (name !== "query" && !name.startsWith("param_")) {
      throw new FrontError(48, "NOT_IMPLEMENTED", `external tables are not supported by the test front (part '${name}')`);
    }
    fields.set(name, value);
  }
  return fields;
}
