import { describe, expect, it } from "vitest";
import { AWS_SHARD_LIMITS, nextCallDelay, responseBytes } from "./pacing.js";

describe("GetRecords pacing per shard", () => {
  const base = { startedAt: 10_000, bytes: 0, records: 100, millisBehindLatest: 5_000 };

  it("keeps at most 5 calls per second", () => {
    expect(nextCallDelay(base, 10_050)).toBe(150);
    expect(nextCallDelay(base, 10_200)).toBe(0);
    expect(nextCallDelay(base, 11_000)).toBe(0);
  });

  it("keeps reads under 2 MiB/s: 4 MiB in one call waits 2 s from the call", () => {
    expect(nextCallDelay({ ...base, bytes: 4 * 1024 * 1024 }, 10_500)).toBe(1_500);
  });

  it("idles once caught up with the tip, but not while behind", () => {
    expect(nextCallDelay({ ...base, records: 0, millisBehindLatest: 0 }, 10_100)).toBe(900);
    expect(nextCallDelay({ ...base, records: 0, millisBehindLatest: 3_000 }, 10_100)).toBe(100);
  });

  it("takes other limits", () => {
    expect(nextCallDelay({ ...base, records: 0, millisBehindLatest: 0 }, 10_000, { ...AWS_SHARD_LIMITS, idleMs: 50, minCallIntervalMs: 10 })).toBe(50);
  });

  it("counts the bytes of the records' data", () => {
    expect(responseBytes([{ Data: new Uint8Array(10) }, { Data: undefined }, { Data: new Uint8Array(5) }])).toBe(15);
  });
});
