import type { ConnectionOptions } from "mysql2";
import type { MysqlSource } from "../../api/index.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import { openSshTunnel } from "../cdc/ssh-tunnel.js";
import { connectionOptions } from "./config.js";

/** Where mysql2 connects: the server, or the local end of an SSH tunnel to it (closed with `close`). */
export interface MysqlEndpoint {
  readonly connection: ConnectionOptions;
  close(): Promise<void>;
}

export async function openEndpoint(spec: MysqlSource, secrets: SecretResolver): Promise<MysqlEndpoint> {
  const ssh = spec.sshTunnel;
  if (ssh === undefined) return { connection: connectionOptions(spec, secrets), close: () => Promise.resolve() };
  const key = ssh.privateKeySecretRef;
  const tunnel = await openSshTunnel({ host: ssh.host, port: ssh.port, username: ssh.user, privateKey: secrets.get(key.name, key.key) }, { host: spec.host, port: spec.port });
  return { connection: connectionOptions(spec, secrets, tunnel), close: () => tunnel.close() };
}
