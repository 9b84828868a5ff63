import { describe, expect, it } from "vitest";
import { ConditionReason, type ClickPipe, type ClickPipeStatus } from "../api/index.js";
import { computeStatus, statusEqual, type StatusInput } from "./status.js";
import { samplePipe } from "./test-fixtures.js";

const now = new Date("2026-01-01T12:00:00.000Z");
const ok = (what: string): { ok: true; reason: ConditionReason; message: string } => ({ ok: true, reason: ConditionReason.SourceReachable, message: `${what} reachable` });
const down = { ok: false, reason: ConditionReason.SourceUnreachable, message: "connect ECONNREFUSED 127.0.0.1:9092" };

function input(pipe: ClickPipe, extra: Partial<StatusInput> = {}): StatusInput {
  return {
    pipe,
    now,
    deployment: { ready: 2, updated: 2, current: true },
    totals: { rows: 100, bytes: 5000, recordErrors: 3, lastInsertTime: "2026-01-01T11:59:58.000Z" },
    source: ok("source"),
    destination: ok("destination"),
    sourceFailAfterMs: 15 * 60_000,
    destinationFailAfterMs: 60 * 60_000,
    ...extra,
  };
}

const cond = (s: ClickPipeStatus, type: string): NonNullable<ClickPipeStatus["conditions"]>[number] | undefined => s.conditions?.find((c) => c.type === type);
const withStatus = (pipe: ClickPipe, status: ClickPipeStatus): ClickPipe => ({ ...pipe, status });

describe("computeStatus", () => {
  it("reports Running and Ready with counters, selector and observedGeneration when consumers are ready", () => {
    const s = computeStatus(input(samplePipe(), { lag: 12 }));
    expect(s.phase).toBe("Running");
    expect(s.observedGeneration).toBe(3);
    expect(s.selector).toBe("clickpipes.io/pipe=events");
    expect(s.replicas).toEqual({ desired: 2, ready: 2 });
    expect(s.ingested).toEqual({ rows: 100, bytes: 5000, lastInsertTime: "2026-01-01T11:59:58.000Z" });
    expect(s.errors).toEqual({ records: 3, system: 0 });
    expect(s.lag).toBe(12);
    expect(cond(s, "Ready")).toMatchObject({ status: "True", reason: "ConsumersReady", observedGeneration: 3, lastTransitionTime: "2026-01-01T12:00:00Z" });
    expect(cond(s, "SourceReachable")?.status).toBe("True");
    expect(cond(s, "DestinationReachable")?.status).toBe("True");
    expect(cond(s, "Progressing")).toMatchObject({ status: "False", reason: "Reconciled" });
  });

  it("is Provisioning until the consumers are first ready, then stays Running while one restarts", () => {
    const pipe = samplePipe();
    const first = computeStatus(input(pipe, { deployment: { ready: 1, updated: 2, current: true } }));
    expect(first.phase).toBe("Provisioning");
    expect(cond(first, "Ready")).toMatchObject({ status: "False", reason: "ConsumersNotReady", message: "1/2 consumers ready" });
    expect(cond(first, "Progressing")).toMatchObject({ status: "False" });
    const running = computeStatus(input(pipe));
    const restarting = computeStatus(input(withStatus(pipe, running), { deployment: { ready: 1, updated: 1, current: false } }));
    expect(restarting.phase).toBe("Running");
    expect(cond(restarting, "Progressing")).toMatchObject({ status: "True", reason: "RolloutInProgress" });
  });

  it("keeps lastTransitionTime while a condition's status does not change", () => {
    const pipe = samplePipe();
    const before = computeStatus(input(pipe));
    const later = new Date(now.getTime() + 60_000);
    const after = computeStatus(input(withStatus(pipe, before), { now: later }));
    expect(cond(after, "Ready")?.lastTransitionTime).toBe("2026-01-01T12:00:00Z");
    const flipped = computeStatus(input(withStatus(pipe, before), { now: later, source: down }));
    expect(cond(flipped, "SourceReachable")).toMatchObject({ status: "False", lastTransitionTime: "2026-01-01T12:01:00Z", message: down.message });
    expect(statusEqual(before, after)).toBe(true);
    expect(statusEqual(before, flipped)).toBe(false);
  });

  it("reports Stopped with no replicas and does not probe", () => {
    const pipe = samplePipe({ spec: { state: "Stopped" } });
    const stopping = computeStatus(input(pipe, { deployment: { ready: 1, updated: 0, current: true }, source: undefined, destination: undefined }));
    expect(stopping.phase).toBe("Stopped");
    expect(cond(stopping, "Ready")).toMatchObject({ status: "False", reason: "Stopped" });
    const stopped = computeStatus(input(pipe, { deployment: { ready: 0, updated: 0, current: true }, source: undefined, destination: undefined }));
    expect(stopped.replicas).toEqual({ desired: 0, ready: 0 });
    expect(cond(stopped, "Ready")).toMatchObject({ status: "True", reason: "Stopped" });
    expect(cond(stopped, "SourceReachable")).toMatchObject({ status: "Unknown", reason: "Stopped" });
  });

  it("puts a spec that cannot work in Setup with the blocker's reason on its condition", () => {
    const blocker = { on: "destination" as const, reason: ConditionReason.TableNotFound, message: "table default.events does not exist and managedTable is false: create it or set managedTable: true" };
    const s = computeStatus(input(samplePipe(), { blocker, deployment: undefined, totals: undefined }));
    expect(s.phase).toBe("Setup");
    expect(cond(s, "Ready")).toMatchObject({ status: "False", reason: "TableNotFound" });
    expect(cond(s, "DestinationReachable")).toMatchObject({ status: "False", reason: "TableNotFound", message: blocker.message });
    expect(s.ingested).toBeUndefined();
  });

  it("fails the pipe once the source has been unreachable for the limit, and keeps it failed for that generation", () => {
    const pipe = samplePipe();
    const t0 = computeStatus(input(pipe, { source: down }));
    expect(t0.phase).toBe("Running");
    const at14 = computeStatus(input(withStatus(pipe, t0), { source: down, now: new Date(now.getTime() + 14 * 60_000) }));
    expect(at14.phase).toBe("Running");
    const at15 = computeStatus(input(withStatus(pipe, at14), { source: down, now: new Date(now.getTime() + 15 * 60_000) }));
    expect(at15.phase).toBe("Failed");
    expect(at15.replicas?.desired).toBe(0);
    expect(cond(at15, "Ready")).toMatchObject({ status: "False", reason: "SourceUnreachableTimeout" });
    expect(cond(at15, "Ready")?.message).toMatch(/source unreachable for 15 min .*ECONNREFUSED/);
    const back = computeStatus(input(withStatus(pipe, at15), { now: new Date(now.getTime() + 20 * 60_000) }));
    expect(back.phase).toBe("Failed");
    const edited = { ...withStatus(pipe, at15), metadata: { ...pipe.metadata, generation: 4 } };
    expect(computeStatus(input(edited)).phase).toBe("Running");
  });

  it("fails after the destination limit, which is separate from the source's", () => {
    const pipe = samplePipe();
    const dDown = { ok: false, reason: ConditionReason.DestinationUnreachable, message: "ClickHouse ping failed" };
    const t0 = computeStatus(input(pipe, { destination: dDown }));
    const at30 = computeStatus(input(withStatus(pipe, t0), { destination: dDown, now: new Date(now.getTime() + 30 * 60_000) }));
    expect(at30.phase).toBe("Running");
    const at60 = computeStatus(input(withStatus(pipe, at30), { destination: dDown, now: new Date(now.getTime() + 60 * 60_000) }));
    expect(cond(at60, "Ready")?.reason).toBe("DestinationUnreachableTimeout");
  });

  it("keeps the previous counters when ClickHouse could not be read", () => {
    const pipe = samplePipe();
    const before = computeStatus(input(pipe));
    const s = computeStatus(input(withStatus(pipe, before), { totals: undefined }));
    expect(s.ingested?.rows).toBe(100);
    expect(s.errors?.records).toBe(3);
  });

  it("reports the latest of the record and system errors", () => {
    const s = computeStatus(
      input(samplePipe(), {
        lastRecordError: { time: "2026-01-01T11:00:00.000Z", type: "DECODE", message: "bad JSON" },
        system: { count: 2, last: { time: "2026-01-01T11:30:00.000Z", type: "INSERT", message: "timeout" } },
      }),
    );
    expect(s.errors).toEqual({ records: 3, system: 2, lastError: { time: "2026-01-01T11:30:00.000Z", type: "INSERT", message: "timeout" } });
  });
});

describe("lifecycle the source reports", () => {
  it("shows Snapshot while the pipe would otherwise be Running, with Progressing SnapshotInProgress", () => {
    const s = computeStatus(input(samplePipe(), { reportedPhase: "Snapshot" }));
    expect(s.phase).toBe("Snapshot");
    expect(cond(s, "Ready")).toMatchObject({ status: "True", reason: "ConsumersReady" });
    expect(cond(s, "Progressing")).toMatchObject({ status: "True", reason: "SnapshotInProgress" });
    expect(s.replicas?.desired).toBe(2);
  });

  it("shows per-table snapshot progress, and keeps it once the consumers' rows are no longer read", () => {
    const tables = [{ table: "orders", partitionsDone: 1, partitionsTotal: 3, rows: 20_000, completed: false }];
    const s = computeStatus(input(samplePipe(), { reportedPhase: "Snapshot", snapshot: tables }));
    expect(s.snapshot).toEqual({ tables });
    const later = computeStatus(input(withStatus(samplePipe(), s), { reportedPhase: "Running" }));
    expect(later.snapshot).toEqual({ tables });
  });

  it("does not show Snapshot before the consumers are up", () => {
    expect(computeStatus(input(samplePipe(), { reportedPhase: "Snapshot", deployment: undefined })).phase).toBe("Provisioning");
  });

  it("completes: phase Completed, Ready=True reason Completed, no consumers", () => {
    const s = computeStatus(input(samplePipe(), { reportedPhase: "Completed" }));
    expect(s.phase).toBe("Completed");
    expect(cond(s, "Ready")).toMatchObject({ status: "True", reason: "Completed" });
    expect(s.replicas?.desired).toBe(0);
  });

  it("stays Completed without the log row, and is not failed by a source gone after completion", () => {
    const pipe = samplePipe();
    const done = computeStatus(input(pipe, { reportedPhase: "Completed" }));
    const later = new Date(now.getTime() + 60 * 60_000);
    const again = computeStatus(input(withStatus(pipe, done), { now: later, source: down, reportedPhase: undefined }));
    expect(again.phase).toBe("Completed");
    expect(again.replicas?.desired).toBe(0);
  });
});

describe("destination failure from the consumers' refused inserts", () => {
  it("goes Failed with DestinationUnreachableTimeout and 0 replicas once DestinationReachable has been False past the limit", () => {
    const pipe = samplePipe();
    const refused = { ok: false, reason: ConditionReason.DestinationUnreachable, message: "ClickHouse refuses the consumers' inserts since 2026-01-01T11:59:00.000Z: ACCESS_DENIED" };
    const first = computeStatus(input(pipe, { destination: refused, destinationFailAfterMs: 20_000 }));
    expect(first.phase).toBe("Running");
    expect(cond(first, "DestinationReachable")).toMatchObject({ status: "False", reason: "DestinationUnreachable" });
    const after = computeStatus(input(withStatus(pipe, first), { now: new Date(now.getTime() + 21_000), destination: refused, destinationFailAfterMs: 20_000 }));
    expect(after.phase).toBe("Failed");
    expect(cond(after, "Ready")).toMatchObject({ status: "False", reason: "DestinationUnreachableTimeout" });
    expect(cond(after, "Ready")?.message).toContain("ACCESS_DENIED");
    expect(after.replicas?.desired).toBe(0);
  });
});

describe("statusEqual", () => {
  it("ignores key order and undefined fields", () => {
    expect(statusEqual({ a: 1, b: { c: 2, d: undefined } }, { b: { c: 2 }, a: 1 })).toBe(true);
    expect(statusEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(statusEqual(undefined, {})).toBe(true);
  });
});
