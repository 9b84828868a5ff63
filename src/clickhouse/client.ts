/**
 * The one place a ClickHouse client is created, so every part of the product talks to
 * ClickHouse with the same timeouts, compression and identification.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from "@clickhouse/client";

export interface ClickHouseEndpoint {
  /** HTTP(S) URL, e.g. https://clickhouse:8443. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Default database of the queries. Default: `default`. */
  readonly database?: string;
  /** PEM CA certificate to trust for an https URL with a private CA. */
  readonly caCert?: Buffer;
}

export interface ClickHouseClientOptions {
  /** Milliseconds before a request is abandoned. Default: 120000 (a 100k-row insert can take seconds on a busy server). */
  readonly requestTimeoutMs?: number;
  /** Sent as the HTTP user agent, visible in system.query_log. Default: `clickpipes`. */
  readonly application?: string;
  /** Sockets kept open to the server. Default: 4. */
  readonly maxOpenConnections?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** Below the server's default keep_alive_timeout (10 s since 23.11, 3 s before) so no reused socket is closed under us. */
const IDLE_SOCKET_TTL_MS = 2_500;

/**
 * A client for one endpoint. Its settings pin how JSONEachRow input is read to what
 * `compileCoercer` produces, so inserts of coerced rows must go through such a client.
 */
export function createClickHouseClient(endpoint: ClickHouseEndpoint, options: ClickHouseClientOptions = {}): ClickHouseClient {
  return createClient({
    url: endpoint.url,
    username: endpoint.username,
    password: endpoint.password,
    database: endpoint.database ?? "default",
    application: options.application ?? "clickpipes",
    request_timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    max_open_connections: options.maxOpenConnections ?? 4,
    // Inserts are JSON text, which gzip shrinks several times; responses are small but cheap to compress.
    compression: { request: true, response: true },
    keep_alive: { enabled: true, idle_socket_ttl: IDLE_SOCKET_TTL_MS },
    // The coercer writes DateTime/DateTime64 as Unix seconds, negative before 1970, which only
    // `basic` parsing reads (best_effort, ClickHouse Cloud's default, refuses "-1.250"); and it
    // leaves absent values out of the line for the column DEFAULT to apply.
    clickhouse_settings: { date_time_input_format: "basic", input_format_defaults_for_omitted_fields: 1 },
    // Failures are thrown to the caller, which classifies and logs them with the pipe's context.
    log: { level: ClickHouseLogLevel.OFF },
    ...(endpoint.caCert === undefined ? {} : { tls: { ca_cert: endpoint.caCert } }),
  });
}

/** Backtick-quotes an identifier (database, table, column, user, role) for SQL text. */
export function quoteIdent(name: string): string {
  return `\`${name.replaceAll("\\", "\\\\").replaceAll("`", "\\`")}\``;
}

/** Single-quotes a string literal for SQL text. */
export function quoteString(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}
