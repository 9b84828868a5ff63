import { describe, expect, it } from "vitest";
import { loadOperatorConfig, OperatorConfigError } from "./config.js";

describe("loadOperatorConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadOperatorConfig({}, "host");
    expect(c.watchNamespaces).toEqual([]);
    expect(c.leaderElect).toBe(true);
    expect(c.leaseNamespace).toBe("default");
    expect(c.httpPort).toBe(8080);
    expect(c.resyncMs).toBe(30_000);
    expect([c.leaseDurationMs, c.renewDeadlineMs, c.retryPeriodMs]).toEqual([15_000, 10_000, 2_000]);
    expect([c.sourceFailAfterMs, c.destinationFailAfterMs]).toEqual([900_000, 3_600_000]);
    expect(c.identity).toBe(`host-${process.pid}`);
  });

  it("reads namespaces, lease namespace from POD_NAMESPACE and fractional thresholds", () => {
    const c = loadOperatorConfig({ WATCH_NAMESPACES: " a, b ,,", POD_NAMESPACE: "ops", POD_NAME: "op-0", LEADER_ELECT: "false", SOURCE_UNREACHABLE_FAIL_SECONDS: "2.5" });
    expect(c.watchNamespaces).toEqual(["a", "b"]);
    expect(c.leaseNamespace).toBe("ops");
    expect(c.identity).toBe("op-0");
    expect(c.leaderElect).toBe(false);
    expect(c.sourceFailAfterMs).toBe(2500);
  });

  it("takes consumer sizes from CONSUMER_SIZE_PRESETS, keeping ClickPipes' size for any left out", () => {
    const c = loadOperatorConfig({ CONSUMER_SIZE_PRESETS: JSON.stringify({ S: { requests: { cpu: "200m", memory: "768Mi" }, limits: { cpu: 1, memory: "1Gi" } } }) });
    expect(c.consumerSizePresets.S).toEqual({ requests: { cpu: "200m", memory: "768Mi" }, limits: { cpu: "1", memory: "1Gi" } });
    expect(c.consumerSizePresets.XL).toEqual({ requests: { cpu: "2", memory: "8Gi" }, limits: { cpu: "2", memory: "8Gi" } });
    expect(() => loadOperatorConfig({ CONSUMER_SIZE_PRESETS: "{" })).toThrow(/CONSUMER_SIZE_PRESETS: not JSON/);
    expect(() => loadOperatorConfig({ CONSUMER_SIZE_PRESETS: JSON.stringify({ XXL: {} }) })).toThrow(/CONSUMER_SIZE_PRESETS/);
    expect(() => loadOperatorConfig({ CONSUMER_SIZE_PRESETS: JSON.stringify({ M: { requests: { cpu: "1" } } }) })).toThrow(/CONSUMER_SIZE_PRESETS\.M\.requests\.memory/);
  });

  it("names the variable, its value and the problem", () => {
    expect(() => loadOperatorConfig({ RESYNC_SECONDS: "-3", LEADER_ELECT: "maybe" })).toThrow(OperatorConfigError);
    expect(() => loadOperatorConfig({ RESYNC_SECONDS: "-3" })).toThrow(/RESYNC_SECONDS="-3"/);
    expect(() => loadOperatorConfig({ LEADER_ELECT: "maybe" })).toThrow(/LEADER_ELECT="maybe"/);
    expect(() => loadOperatorConfig({ LEASE_DURATION_SECONDS: "5" })).toThrow(/RENEW_DEADLINE_SECONDS=10: must be below LEASE_DURATION_SECONDS/);
  });
});
