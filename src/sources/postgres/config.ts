/**
 * From the spec and its Secrets to what the Postgres source connects with: the pg client
 * config (TLS verifying the server against caCertificateSecretRef, a session with fixed text
 * formats), the SSH tunnel if any, and the slot and publication names (the pipe's own by
 * default, the user's when named in settings).
 */
import type pg from "pg";
import { type ClickPipe, type ClickPipeSpec, SecretKeys } from "../../api/index.js";
import type { PostgresSource } from "../../api/databases.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import { openSshTunnel, type SshTunnel, type SshTunnelOptions } from "../cdc/ssh-tunnel.js";

export function postgresSpec(spec: Pick<ClickPipeSpec, "source">): PostgresSource {
  const postgres = spec.source.postgres;
  if (postgres === undefined) throw new ConfigError("the Postgres plugin was given a pipe without spec.source.postgres");
  return postgres;
}

/**
 * Fixed text forms for every value (types.ts relies on them): UTC timestamps, ISO 8601
 * intervals, hex bytea, ISO dates, shortest exact floats.
 */
const SESSION_OPTIONS = "-c TimeZone=UTC -c IntervalStyle=iso_8601 -c bytea_output=hex -c DateStyle=ISO -c extra_float_digits=1";

/** Every value as Postgres's text: types.ts converts them, pg's own parsers would lose precision. */
const TEXT_TYPES: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value };

export interface PgEndpoint {
  readonly config: pg.ClientConfig;
  readonly tunnel?: SshTunnelOptions | undefined;
  readonly target: { readonly host: string; readonly port: number };
}

function tlsConfig(spec: PostgresSource, secrets: SecretResolver): pg.ClientConfig["ssl"] {
  const ca = spec.caCertificateSecretRef;
  const tls = spec.tls ?? ca !== undefined;
  if (!tls) return false;
  // Verify the server: its certificate chains to the given CA (or the system store) and names the host.
  return ca === undefined ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca: secrets.get(ca.name, ca.key) };
}

export function pgEndpoint(spec: PostgresSource, secrets: SecretResolver, application = "clickpipes"): PgEndpoint {
  const creds = spec.credentialsSecretRef;
  const ssh = spec.sshTunnel;
  return {
    target: { host: spec.host, port: spec.port },
    config: {
      host: spec.host,
      port: spec.port,
      database: spec.database,
      user: secrets.get(creds.name, SecretKeys.username),
      password: secrets.get(creds.name, SecretKeys.password),
      ssl: tlsConfig(spec, secrets),
      options: SESSION_OPTIONS,
      types: TEXT_TYPES,
      application_name: application,
      connectionTimeoutMillis: 15_000,
      keepAlive: true,
    },
    tunnel:
      ssh === undefined
        ? undefined
        : { host: ssh.host, port: ssh.port, username: ssh.user, privateKey: secrets.get(ssh.privateKeySecretRef.name, ssh.privateKeySecretRef.key) },
  };
}

/** The client config to use now: through the SSH tunnel when there is one (TLS still verifies the database's name). */
export async function connectVia(endpoint: PgEndpoint): Promise<{ config: pg.ClientConfig; tunnel?: SshTunnel }> {
  if (endpoint.tunnel === undefined) return { config: endpoint.config };
  const tunnel = await openSshTunnel(endpoint.tunnel, endpoint.target);
  const ssl = endpoint.config.ssl;
  const servername = typeof ssl === "object" ? { ...ssl, servername: endpoint.target.host } : ssl;
  return { config: { ...endpoint.config, host: tunnel.host, port: tunnel.port, ssl: servername }, tunnel };
}

/** Postgres identifiers the pipe creates: lower case, [a-z0-9_], at most 63 bytes. */
function identifier(prefix: string, pipe: ClickPipe): string {
  const raw = `${prefix}_${pipe.metadata.namespace ?? "default"}_${pipe.metadata.name}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return raw.slice(0, 63);
}

export interface ReplicationNames {
  readonly slot: string;
  readonly publication: string;
  /** True when the pipe made it (and drops it on deletion); false when the user named their own. */
  readonly ownSlot: boolean;
  readonly ownPublication: boolean;
}

export function replicationNames(pipe: ClickPipe): ReplicationNames {
  const settings = postgresSpec(pipe.spec).settings;
  return {
    slot: settings.replicationSlotName ?? identifier("clickpipes", pipe),
    publication: settings.publicationName ?? identifier("clickpipes", pipe),
    ownSlot: settings.replicationSlotName === undefined,
    ownPublication: settings.publicationName === undefined,
  };
}
