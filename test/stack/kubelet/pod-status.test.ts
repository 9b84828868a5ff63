import { describe, expect, it } from "vitest";
import { backoffDelay, podPhase, podStatus, shouldRestart, type ContainerRuntime } from "./pod-status.js";

const t0 = new Date("2026-01-01T00:00:00Z");

function c(over: Partial<ContainerRuntime>): ContainerRuntime {
  return { name: "c", image: "img", state: { kind: "running", startedAt: t0 }, lastTerminated: undefined, restartCount: 0, ready: true, pid: 42, ...over };
}

const exited = (exitCode: number): ContainerRuntime["state"] => ({
  kind: "terminated",
  terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error", startedAt: t0, finishedAt: t0 },
});

describe("pod phase", () => {
  it("follows the kubelet's rules", () => {
    expect(podPhase([c({ state: { kind: "waiting", reason: "ContainerCreating" } })], false)).toBe("Pending");
    expect(podPhase([c({})], false)).toBe("Running");
    expect(podPhase([c({ state: { kind: "waiting", reason: "CrashLoopBackOff" }, lastTerminated: { exitCode: 1, reason: "Error", startedAt: t0, finishedAt: t0 } })], false)).toBe("Running");
    expect(podPhase([c({ state: exited(0) }), c({ state: exited(0) })], false)).toBe("Succeeded");
    expect(podPhase([c({ state: exited(0) }), c({ state: exited(2) })], false)).toBe("Failed");
    expect(podPhase([c({ state: exited(0) }), c({})], false)).toBe("Running");
    expect(podPhase([c({})], true)).toBe("Failed");
  });
});

describe("restart decisions", () => {
  it("honours restartPolicy", () => {
    expect(shouldRestart(undefined, 0)).toBe(true);
    expect(shouldRestart("Always", 0)).toBe(true);
    expect(shouldRestart("OnFailure", 0)).toBe(false);
    expect(shouldRestart("OnFailure", 1)).toBe(true);
    expect(shouldRestart("Never", 1)).toBe(false);
  });

  it("doubles the backoff up to the cap", () => {
    expect([0, 1, 2, 3, 10].map((s) => backoffDelay(s, 10_000, 300_000))).toEqual([10_000, 20_000, 40_000, 80_000, 300_000]);
  });
});

describe("pod status", () => {
  it("reports Ready only when every container is ready, with restart counts and the last termination", () => {
    const status = podStatus(
      { metadata: { name: "p" }, spec: { containers: [] } },
      {
        containers: [
          c({ name: "a" }),
          c({ name: "b", ready: false, restartCount: 2, lastTerminated: { exitCode: 1, reason: "Error", startedAt: t0, finishedAt: t0 } }),
        ],
        initContainers: [],
        initialized: true,
        initFailed: false,
        startTime: t0,
      },
      t0,
    );
    expect(status.phase).toBe("Running");
    expect(status.podIP).toBe("127.0.0.1");
    expect(status.conditions?.find((x) => x.type === "Ready")?.status).toBe("False");
    expect(status.conditions?.find((x) => x.type === "Initialized")?.status).toBe("True");
    const b = status.containerStatuses?.find((x) => x.name === "b");
    expect(b?.restartCount).toBe(2);
    expect(b?.lastState?.terminated?.exitCode).toBe(1);
    expect(status.containerStatuses?.find((x) => x.name === "a")?.containerID).toBe("local://42");
  });

  it("keeps a condition's transition time while its status does not change", () => {
    const earlier = new Date("2025-12-31T00:00:00Z");
    const status = podStatus(
      { metadata: { name: "p" }, status: { conditions: [{ type: "Ready", status: "True", lastTransitionTime: earlier }] } },
      { containers: [c({})], initContainers: [], initialized: true, initFailed: false, startTime: t0 },
      t0,
    );
    expect(status.conditions?.find((x) => x.type === "Ready")?.lastTransitionTime).toEqual(earlier);
  });
});
