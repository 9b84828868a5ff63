/**
 * An SSH tunnel to a database behind a bastion, for any CDC source: a local listener on
 * 127.0.0.1 whose connections are forwarded (ssh2 `forwardOut`) to the database host and
 * port as the bastion sees them. The driver then connects to the local address. The host
 * key is checked when a fingerprint is given; the private key comes from a Secret.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Client, ConnectConfig } from "ssh2";
import { SourceError } from "../../ingest/errors.js";

export interface SshTunnelOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** PEM/OpenSSH private key text. */
  readonly privateKey: string;
  readonly passphrase?: string | undefined;
  readonly readyTimeoutMs?: number;
}

export interface SshTunnel {
  /** Where the driver connects instead of the database. */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

async function connectSsh(opts: SshTunnelOptions): Promise<Client> {
  // Loaded when a tunnel is opened: ssh2 costs every consumer ~14 MiB (a 16 MiB WebAssembly heap) and 60 ms at start-up.
  const ssh2 = await import("ssh2");
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const config: ConnectConfig = {
      host: opts.host,
      port: opts.port,
      username: opts.username,
      privateKey: opts.privateKey,
      readyTimeout: opts.readyTimeoutMs ?? 15_000,
      keepaliveInterval: 10_000,
      ...(opts.passphrase === undefined ? {} : { passphrase: opts.passphrase }),
    };
    client.once("ready", () => resolve(client));
    client.once("error", (err: Error) =>
      reject(new SourceError(`SSH tunnel to ${opts.username}@${opts.host}:${opts.port} failed: ${err.message}`, { retriable: true, cause: err, context: { sshHost: opts.host } })),
    );
    client.connect(config);
  });
}

function forward(client: Client, socket: Socket, target: { host: string; port: number }): void {
  client.forwardOut("127.0.0.1", socket.localPort ?? 0, target.host, target.port, (err, channel) => {
    if (err !== undefined && err !== null) {
      // The database is not reachable from the bastion: the driver sees its connection closed and retries.
      socket.destroy(err);
      return;
    }
    socket.pipe(channel).pipe(socket);
    channel.on("error", () => socket.destroy());
    socket.on("error", () => channel.close());
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("the SSH tunnel's local listener has no port"));
      else resolve(address.port);
    });
  });
}

/** Opens the tunnel: resolves once SSH is authenticated and the local listener is up. */
export async function openSshTunnel(opts: SshTunnelOptions, target: { host: string; port: number }): Promise<SshTunnel> {
  const client = await connectSsh(opts);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    forward(client, socket, target);
  });
  let port: number;
  try {
    port = await listen(server);
  } catch (err) {
    client.end();
    throw err;
  }
  return {
    host: "127.0.0.1",
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        client.end();
      }),
  };
}
