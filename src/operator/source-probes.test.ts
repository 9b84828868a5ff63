import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { SourceProbeResult } from "../sources/plugin.js";
import { SourceProbes, type ProbeFn } from "./source-probes.js";
import { samplePipe } from "./test-fixtures.js";

const log = pino({ level: "silent" });
const secrets = { get: (): string => "x" };
const reachable: SourceProbeResult = { reachability: { ok: true, reason: "SourceReachable", message: "brokers answered" }, lag: 5 };
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

function probes(probe: ProbeFn, woken: string[], clock: { now: number }, concurrency = 2): SourceProbes {
  return new SourceProbes({ probe, intervalMs: 1000, concurrency, onResult: (k) => woken.push(k), log, now: () => clock.now });
}

describe("SourceProbes", () => {
  it("probes in the background, wakes the pipe, and reuses the result until the interval passes", async () => {
    let calls = 0;
    const woken: string[] = [];
    const clock = { now: 0 };
    const p = probes(() => Promise.resolve(void calls++).then(() => reachable), woken, clock);
    const pipe = samplePipe();
    expect(p.latest("a/p", pipe, secrets)).toBeUndefined();
    await settle();
    expect(woken).toEqual(["a/p"]);
    expect(p.latest("a/p", pipe, secrets)).toMatchObject({ at: 0, lag: 5, reachability: { ok: true } });
    clock.now = 999;
    p.latest("a/p", pipe, secrets);
    await settle();
    expect(calls).toBe(1);
    clock.now = 1000;
    p.latest("a/p", pipe, secrets);
    await settle();
    expect(calls).toBe(2);
  });

  it("probes again at once when the result is older than a streak the consumers reported", async () => {
    let calls = 0;
    const clock = { now: 0 };
    const p = probes(() => Promise.resolve(void calls++).then(() => reachable), [], clock);
    const pipe = samplePipe();
    p.latest("a/p", pipe, secrets);
    await settle();
    clock.now = 10;
    p.latest("a/p", pipe, secrets, 5);
    await settle();
    expect(calls).toBe(2);
  });

  it("runs at most `concurrency` probes at once and never two for one pipe", async () => {
    let active = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const probe: ProbeFn = () =>
      new Promise((resolve) => {
        active++;
        most = Math.max(most, active);
        release.push(() => {
          active--;
          resolve(reachable);
        });
      });
    const p = probes(probe, [], { now: 0 }, 2);
    const pipe = samplePipe();
    for (const k of ["a/1", "a/2", "a/3", "a/1"]) p.latest(k, pipe, secrets);
    await settle();
    expect(most).toBe(2);
    while (release.length > 0) {
      release.shift()?.();
      await settle();
    }
    expect(most).toBe(2);
  });

  it("turns a probe that throws into an unreachable result naming the problem", async () => {
    const p = probes(() => Promise.reject(new Error('Secret "kafka-creds" has no key "password"')), [], { now: 0 });
    const pipe = samplePipe();
    p.latest("a/p", pipe, secrets);
    await settle();
    expect(p.latest("a/p", pipe, secrets)?.reachability).toMatchObject({ ok: false, reason: "SourceUnreachable", message: 'probe failed: Secret "kafka-creds" has no key "password"' });
  });
});
