import { afterEach, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { startHttpServer } from "./http.js";
import { createOperatorMetrics, resourceOf } from "./metrics.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

describe("operator HTTP endpoints", () => {
  it("answers /healthz, /readyz by their checks and serves /metrics", async () => {
    const metrics = createOperatorMetrics();
    metrics.reconciles.inc({ result: "done" });
    let ready = false;
    const started = await startHttpServer(0, { healthy: () => ({ ok: true, detail: "watching" }), ready: () => ({ ok: ready, detail: ready ? "synced" : "syncing" }) }, metrics.registry);
    server = started.server;
    const base = `http://127.0.0.1:${started.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect([notReady.status, await notReady.text()]).toEqual([503, "not ok: syncing\n"]);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('clickpipes_operator_reconciles_total{result="done"} 1');
    expect(text).toContain("clickpipes_operator_queue_depth");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe("resourceOf", () => {
  it("names the resource and subresource of an API path", () => {
    expect(resourceOf("/apis/apps/v1/namespaces/a/deployments/x")).toBe("deployments");
    expect(resourceOf("/apis/clickpipes.io/v1alpha1/namespaces/a/clickpipes/x/status")).toBe("clickpipes/status");
    expect(resourceOf("/apis/clickpipes.io/v1alpha1/clickpipes")).toBe("clickpipes");
    expect(resourceOf("/api/v1/namespaces/a/secrets?watch=1")).toBe("secrets");
    expect(resourceOf("/api/v1/secrets")).toBe("secrets");
  });
});
