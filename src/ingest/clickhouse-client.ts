import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";

export interface IngestEndpoint {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
}

/**
 * The consumer's ClickHouse client. Not src/clickhouse's factory: that one gzips every
 * request, which costs the consumer more CPU (~70 MB/s per core) than the rest of a batch,
 * to save bandwidth an in-region insert does not need. The client's own logger is off:
 * its failures reach our logs classified, as JSON.
 */
export function ingestClickHouseClient(endpoint: IngestEndpoint): ClickHouseClient {
  return createClient({
    url: endpoint.url,
    username: endpoint.username,
    password: endpoint.password,
    database: endpoint.database,
    application: "clickpipes",
    request_timeout: 60_000,
    max_open_connections: 4,
    compression: { request: false, response: false },
    keep_alive: { enabled: true, idle_socket_ttl: 2_500 },
    log: { level: ClickHouseLogLevel.OFF },
  });
}
