import { describe, expect, it } from "vitest";
import type { ClickPipe } from "../api/index.js";
import { activeStreak, consumersRunning, lagOf, needsSourceProbe, pipeHealth, reportedPhaseOf, type HealthInput } from "./pipe-health.js";
import { samplePipe } from "./test-fixtures.js";

const created = "2026-01-01T10:00:00Z";
const ok = { ok: true, reason: "DestinationReachable", message: "ClickHouse answered" } as const;

function pipe(state: "Running" | "Stopped" = "Running"): ClickPipe {
  const p = samplePipe({ spec: { state } });
  return { ...p, metadata: { ...p.metadata, creationTimestamp: created } };
}

const at = (hhmmss: string): string => `2026-01-01T${hhmmss}.000Z`;

function input(over: Partial<HealthInput> = {}): HealthInput {
  return { pipe: pipe(), readings: ok, consumersRunning: true, ...over };
}

describe("destination streak", () => {
  it("is DestinationReachable=False with the ClickHouse message while the refusal is newer than the last insert", () => {
    const h = pipeHealth(input({ totals: { rows: 5, bytes: 50, recordErrors: 0, lastInsertTime: at("11:00:00") }, reports: { destinationError: { time: at("11:05:00"), message: "Not enough privileges. (ACCESS_DENIED)" } } }));
    expect(h.destination).toMatchObject({ ok: false, reason: "DestinationUnreachable" });
    expect(h.destination?.message).toContain("Not enough privileges. (ACCESS_DENIED)");
  });

  it("is over once a later insert exists", () => {
    const h = pipeHealth(input({ totals: { rows: 5, bytes: 50, recordErrors: 0, lastInsertTime: at("11:06:00") }, reports: { destinationError: { time: at("11:05:00"), message: "denied" } } }));
    expect(h.destination).toEqual(ok);
  });

  it("is False for a pipe that never inserted", () => {
    expect(pipeHealth(input({ reports: { destinationError: { time: at("10:00:05"), message: "UNKNOWN_TABLE" } } })).destination?.ok).toBe(false);
  });

  it("ignores a refusal older than the pipe (a predecessor of the same name)", () => {
    expect(pipeHealth(input({ reports: { destinationError: { time: "2025-12-31T23:00:00.000Z", message: "old" } } })).destination).toEqual(ok);
  });

  it("reports ClickHouse itself not answering the operator first", () => {
    const down = { ok: false, reason: "DestinationUnreachable", message: "ClickHouse did not answer: ECONNREFUSED" } as const;
    expect(pipeHealth(input({ readings: down, reports: { destinationError: { time: at("11:05:00"), message: "denied" } } })).destination).toEqual(down);
  });
});

describe("source", () => {
  const streak = { sourceError: { time: at("11:05:00"), message: "Connection error: ECONNREFUSED 127.0.0.1:1" } };

  it("is False from the consumers' SOURCE_ERROR row while no later insert exists", () => {
    const h = pipeHealth(input({ reports: streak, totals: { rows: 1, bytes: 1, recordErrors: 0, lastInsertTime: at("11:00:00") } }));
    expect(h.source).toMatchObject({ ok: false, reason: "SourceUnreachable" });
    expect(h.source?.message).toContain("ECONNREFUSED 127.0.0.1:1");
  });

  it("takes a probe made after the streak began: reachable again with nothing new to insert", () => {
    const probe = { at: Date.parse(at("11:06:00")), reachability: { ok: true, reason: "SourceReachable", message: "brokers answered" } } as const;
    expect(pipeHealth(input({ reports: streak, probe })).source).toMatchObject({ ok: true });
    const older = { ...probe, at: Date.parse(at("11:04:00")) };
    expect(pipeHealth(input({ reports: streak, probe: older })).source).toMatchObject({ ok: false });
  });

  it("is True once the consumers inserted, without any probe", () => {
    const i = input({ totals: { rows: 1, bytes: 1, recordErrors: 0, lastInsertTime: at("11:00:00") } });
    expect(pipeHealth(i).source).toMatchObject({ ok: true, reason: "SourceReachable" });
    expect(needsSourceProbe(i)).toBe(false);
  });

  it("asks for a probe only for a running pipe whose consumers cannot tell", () => {
    expect(needsSourceProbe(input())).toBe(true);
    expect(needsSourceProbe(input({ reports: streak, totals: { rows: 1, bytes: 1, recordErrors: 0, lastInsertTime: at("11:00:00") } }))).toBe(true);
    expect(needsSourceProbe(input({ pipe: pipe("Stopped") }))).toBe(false);
  });

  it("uses the probe before the first insert, and is unknown without one", () => {
    const probe = { at: 1, reachability: { ok: false, reason: "SourceUnreachable", message: "brokers did not answer" } } as const;
    expect(pipeHealth(input({ probe })).source).toEqual(probe.reachability);
    expect(pipeHealth(input()).source).toBeUndefined();
  });
});

describe("lag", () => {
  it("is the state table's sum over streams once the pipe inserted, not the probe's", () => {
    const i = input({ totals: { rows: 1, bytes: 1, recordErrors: 0, lag: 42, lastInsertTime: at("11:00:00") }, probe: { at: 1, reachability: ok, lag: 7 } });
    expect(lagOf(i)).toBe(42);
  });

  it("is the slowest stream, not a sum, for a source whose lag is time behind the tip (Kinesis, ms)", () => {
    const base = samplePipe({ spec: { source: { kinesis: { streamName: "s", region: "us-east-1", credentialsSecretRef: { name: "aws" } } } } });
    const kinesis = { ...base, metadata: { ...base.metadata, creationTimestamp: created } };
    const totals = { rows: 1, bytes: 1, recordErrors: 0, lag: 9_000, maxLag: 5_000, lastInsertTime: at("11:00:00") };
    expect(lagOf(input({ pipe: kinesis, totals }))).toBe(5_000);
    expect(lagOf(input({ totals }))).toBe(9_000);
  });

  it("is the probe's before any insert of this pipe", () => {
    expect(lagOf(input({ totals: { rows: 9, bytes: 9, recordErrors: 0, lag: 42, lastInsertTime: "2025-12-31T00:00:00.000Z" }, probe: { at: 1, reachability: ok, lag: 7 } }))).toBe(7);
  });
});

describe("reported phase and streak bounds", () => {
  it("reads Snapshot, Running and Completed rows newer than the pipe, ignoring anything else", () => {
    expect(reportedPhaseOf(input({ reports: { phase: { time: at("10:30:00"), message: "Snapshot" } } }))).toBe("Snapshot");
    expect(reportedPhaseOf(input({ reports: { phase: { time: at("10:30:00"), message: "Completed" } } }))).toBe("Completed");
    expect(reportedPhaseOf(input({ reports: { phase: { time: "2025-12-31T10:30:00.000Z", message: "Completed" } } }))).toBeUndefined();
    expect(reportedPhaseOf(input({ reports: { phase: { time: at("10:30:00"), message: "Paused" } } }))).toBeUndefined();
  });

  it("a streak row at the same instant as the last insert is over", () => {
    const t = at("11:00:00");
    expect(activeStreak({ time: t, message: "x" }, { pipe: pipe(), totals: { rows: 1, bytes: 1, recordErrors: 0, lastInsertTime: t }, consumersRunning: true })).toBeUndefined();
  });

  it("holds no streak against a pipe whose consumers are not running, so a restart after Failed is not failed again on the old row", () => {
    const refused = { destinationError: { time: at("11:05:00"), message: "denied" } };
    expect(pipeHealth(input({ reports: refused, consumersRunning: false })).destination).toEqual(ok);
    const failed = { ...pipe(), status: { phase: "Failed" as const } };
    expect(consumersRunning(failed)).toBe(false);
    expect(consumersRunning({ ...pipe(), status: { phase: "Stopped" as const } })).toBe(false);
    expect(consumersRunning({ ...pipe(), status: { phase: "Running" as const } })).toBe(true);
    expect(consumersRunning(pipe("Stopped"))).toBe(false);
  });
});
