import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import { listenHttp } from "../ingest/http-listen.js";

export interface HealthChecks {
  /** Alive: the process is not wedged (informers not stalled). */
  readonly healthy: () => { ok: boolean; detail: string };
  /** Ready: caches synced (or standing by as a non-leader). */
  readonly ready: () => { ok: boolean; detail: string };
}

/** /healthz, /readyz and /metrics on one port; a taken port rejects with a ConfigError naming it. */
export async function startHttpServer(port: number, checks: HealthChecks, registry: Registry): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const check = path === "/healthz" ? checks.healthy : path === "/readyz" ? checks.ready : undefined;
    if (check) {
      const { ok, detail } = check();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(`${ok ? "ok" : "not ok"}: ${detail}\n`);
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
      return;
    }
    res.writeHead(404).end("not found\n");
  });
  return { server, port: await listenHttp(server, port) };
}
