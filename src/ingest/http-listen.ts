import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "./errors.js";

/**
 * Listens on `port` (0: any free port) and resolves the port bound. A port already taken is
 * a configuration problem, not a crash: it becomes a ConfigError whose one-line message
 * names the port and how to choose another, which `run`, `consume` and `operator` print.
 */
export function listenHttp(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === "EADDRINUSE" || err.code === "EACCES") {
        const why = err.code === "EADDRINUSE" ? "is already in use" : "may not be opened by this user";
        reject(new ConfigError(`HTTP port ${port} ${why}: choose another with --http-port N (or CLICKPIPES_HTTP_PORT); --http-port 0 picks a free one`, { port }));
      } else {
        reject(new ConfigError(`cannot serve HTTP on port ${port}: ${err.message}`, { port }));
      }
    };
    server.once("error", onError);
    server.listen(port, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Parses `--http-port` (an integer 0..65535) for commander; the message names the flag. */
export function parseHttpPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port > 65_535) {
    throw new ConfigError(`--http-port ${JSON.stringify(text)} is not a port: use an integer from 0 to 65535 (0 picks a free port)`);
  }
  return port;
}
