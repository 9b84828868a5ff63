import { type Server, createServer } from "node:http";
import type { Registry } from "prom-client";
import { listenHttp } from "./http-listen.js";
import type { Logger } from "./logger.js";

export interface HealthState {
  /** Liveness: false once the pipeline has failed for good (the pod should restart). */
  healthy(): boolean;
  /** Readiness: the source is connected and the destination checked. */
  ready(): boolean;
}

/** /healthz, /readyz and Prometheus /metrics for the consumer; a taken port rejects with a ConfigError naming it. */
export async function startHttpServer(port: number, health: HealthState, registry: Registry, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const answer = (ok: boolean): void => {
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "not ok\n");
    };
    if (path === "/healthz") return answer(health.healthy());
    if (path === "/readyz") return answer(health.ready());
    if (path === "/metrics") {
      registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": registry.contentType }).end(text))
        .catch((err: unknown) => {
          logger.error({ err }, "rendering metrics failed");
          res.writeHead(500).end();
        });
      return;
    }
    res.writeHead(404).end();
  });
  await listenHttp(server, port);
  return server;
}
