import type { ConnectionOptions, SslOptions } from "mysql2";
import { type ClickPipeSpec, type MysqlSource, SecretKeys } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SecretResolver } from "../../ingest/secrets.js";

/** The pipe's `spec.source.mysql`, or a ConfigError when the plugin was handed another source. */
export function mysqlSpec(spec: Pick<ClickPipeSpec, "source">): MysqlSource {
  const mysql = spec.source.mysql;
  if (mysql === undefined) throw new ConfigError("the MySQL plugin was given a pipe without spec.source.mysql");
  return mysql;
}

/**
 * Value options shared by the snapshot's queries and the binlog reader (zongji reads them
 * from its connection's config), so a row reads the same from either path: temporal values
 * as the server's text (microseconds kept, zero dates kept), TIMESTAMP in UTC, JSON as its
 * text, 64-bit integers and DECIMAL as exact strings.
 */
export const VALUE_OPTIONS = {
  dateStrings: true,
  timezone: "Z",
  jsonStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: false,
  decimalNumbers: false,
} as const;

/** TLS when asked for, or implied by a CA; the CA from its Secret, else the system trust store. */
export function tlsOptions(source: MysqlSource, secrets: SecretResolver): SslOptions | undefined {
  const ca = source.caCertificateSecretRef;
  const tls = source.tls ?? ca !== undefined;
  if (!tls) return undefined;
  return ca === undefined ? { rejectUnauthorized: true } : { ca: secrets.get(ca.name, ca.key), rejectUnauthorized: true };
}

/**
 * mysql2 connection options for the pipe's source. `endpoint` overrides host and port (the
 * local end of an SSH tunnel).
 */
export function connectionOptions(source: MysqlSource, secrets: SecretResolver, endpoint?: { host: string; port: number }): ConnectionOptions {
  const ref = source.credentialsSecretRef;
  const ssl = tlsOptions(source, secrets);
  return {
    host: endpoint?.host ?? source.host,
    port: endpoint?.port ?? source.port,
    user: secrets.get(ref.name, SecretKeys.username),
    password: secrets.get(ref.name, SecretKeys.password),
    connectTimeout: 10_000,
    ...VALUE_OPTIONS,
    ...(ssl === undefined ? {} : { ssl }),
  };
}
