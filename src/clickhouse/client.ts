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
  /**
   * gzip of request bodies and responses. Default: both on (the operator's small queries
   * and reads cost nothing to compress). The consumer turns both off: gzip of its JSON
   * inserts costs more CPU (~70 MB/s per core) than the rest of a batch, to save bandwidth
   * an in-region insert does not need.
   */
  readonly compression?: { readonly request: boolean; readonly response: boolean };
}

/**
 * The options of the consumer's client (`clickpipes consume` and `run`) and of the Kafka
 * benchmark, which measures that client: a 60 s request timeout (a batch that takes longer
 * is retried rather than waited on) and no compression.
 */
export const CONSUMER_CLIENT_OPTIONS: ClickHouseClientOptions = {
  requestTimeoutMs: 60_000,
  application: "clickpipes",
  maxOpenConnections: 4,
  compression: { request: false, response: false },
};

/**
 * The consumer's client for statements ClickHouse runs for long without sending a byte back:
 * an `INSERT ... SELECT` of a multi-GB file answers only when it is done, and the request
 * timeout is an idle-socket timeout, so 60 s would cut it and retry it for ever. Progress
 * headers would keep the socket busy but make the summary (the pipe's row count) partial.
 */
export const BULK_CLIENT_OPTIONS: ClickHouseClientOptions = { ...CONSUMER_CLIENT_OPTIONS, requestTimeoutMs: 6 * 3600_000 };

/**
 * Settings pinned on every query, whatever the server's or the user profile's defaults
 * (ClickHouse Cloud's differ from a self-hosted server's):
 * - date_time_input_format=basic: the coercer writes DateTime/DateTime64 as Unix seconds,
 *   negative before 1970, which only `basic` parsing reads (best_effort, ClickHouse Cloud's
 *   default, refuses "-1.250"). A passthrough insert overrides it per query.
 * - input_format_defaults_for_omitted_fields=1: the coercer leaves absent values out of the
 *   line for the column DEFAULT expression to apply, not the type's zero value.
 * - async_insert=0: positions are committed once the insert returns, so it must return only
 *   when the rows are in a part; an asynchronous insert that does not wait would let a
 *   failed flush lose committed records.
 */
export const PINNED_SETTINGS = {
  date_time_input_format: "basic",
  input_format_defaults_for_omitted_fields: 1,
  async_insert: 0,
} as const;

const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** Below the server's default keep_alive_timeout (10 s since 23.11, 3 s before) so no reused socket is closed under us. */
const IDLE_SOCKET_TTL_MS = 2_500;

/**
 * A client for one endpoint, for the consumer (with CONSUMER_CLIENT_OPTIONS), the operator
 * and the benchmarks alike. Its settings (PINNED_SETTINGS) pin how JSONEachRow input is read
 * to what `compileCoercer` produces, so inserts of coerced rows must go through such a client.
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
    compression: { request: options.compression?.request ?? true, response: options.compression?.response ?? true },
    keep_alive: { enabled: true, idle_socket_ttl: IDLE_SOCKET_TTL_MS },
    clickhouse_settings: { ...PINNED_SETTINGS },
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

/**
 * The part of a client that table setup and checks use (a ClickHouseClient is one), so a
 * caller can count their queries and a unit test can answer them.
 */
export interface SqlRunner {
  query(params: { query: string; query_params?: Record<string, unknown>; format: "JSONEachRow" }): Promise<{ json<T>(): Promise<T[]> }>;
  command(params: { query: string }): Promise<unknown>;
}
