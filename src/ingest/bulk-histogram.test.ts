import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { BulkHistogram } from "./bulk-histogram.js";

const BUCKETS = [0.1, 1, 10];
const VALUES = [0, 0.1, 0.5, 1, 3, 10, 11, 500];

describe("BulkHistogram", () => {
  it("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const ours = new Registry();
    const bulk = new BulkHistogram("lat_seconds", "help text", BUCKETS, { pipe: "ns/p" }).registerIn(ours);
    const theirs = new Registry();
    const reference = new Histogram({ name: "lat_seconds", help: "help text", labelNames: ["pipe"], buckets: BUCKETS, registers: [theirs] });
    for (const v of VALUES) {
      bulk.observe(v);
      reference.observe({ pipe: "ns/p" }, v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("starts again from zero on reset", async () => {
    const registry = new Registry();
    const bulk = new BulkHistogram("lat_seconds", "h", BUCKETS, { pipe: "p" }).registerIn(registry);
    bulk.observe(5);
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('lat_seconds_count{pipe="p"} 0');
  });
});
