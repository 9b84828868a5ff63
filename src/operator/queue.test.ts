import { describe, expect, it } from "vitest";
import { backoffDelay, defaultBackoff, TerminalError, WorkQueue, type QueueOutcome } from "./queue.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("WorkQueue", () => {
  it("merges duplicate keys queued before they run", async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const runs: string[] = [];
    q.add("a");
    q.add("a");
    q.add("b");
    q.add("a");
    q.start((k) => {
      runs.push(k);
    });
    await q.idle();
    expect(runs).toEqual(["a", "b"]);
  });

  it("never runs one key twice at once, and reruns it once if it was added while running", async () => {
    const q = new WorkQueue({ concurrency: 4 });
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    q.start(async () => {
      active++;
      runs++;
      maxActive = Math.max(maxActive, active);
      if (runs === 1) await gate.promise;
      active--;
    });
    q.add("a");
    await sleep(5);
    q.add("a");
    q.add("a");
    gate.resolve();
    await sleep(20);
    await q.idle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it("runs different keys concurrently up to the limit", async () => {
    const q = new WorkQueue({ concurrency: 3 });
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    q.start(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await gate.promise;
      active--;
    });
    for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
    await sleep(10);
    expect(q.running).toBe(3);
    expect(q.depth).toBe(2);
    gate.resolve();
    await q.idle();
    expect(maxActive).toBe(3);
  });

  it("retries a failing key with growing delays and stops retrying after success", async () => {
    const outcomes: QueueOutcome[] = [];
    const q = new WorkQueue({ concurrency: 1, backoff: { baseMs: 10, maxMs: 1000, jitter: 0 }, onResult: (_k, o) => outcomes.push(o) });
    let calls = 0;
    q.start(() => {
      calls++;
      if (calls < 4) throw new Error("apiserver unavailable");
    });
    q.add("a");
    await sleep(200);
    expect(calls).toBe(4);
    expect(outcomes.map((o) => (o.kind === "retry" ? o.afterMs : o.kind))).toEqual([10, 20, 40, "done"]);
  });

  it("does not retry a terminal error", async () => {
    const outcomes: QueueOutcome[] = [];
    const q = new WorkQueue({ concurrency: 1, backoff: { baseMs: 5, maxMs: 10, jitter: 0 }, onResult: (_k, o) => outcomes.push(o) });
    let calls = 0;
    q.start(() => {
      calls++;
      throw new TerminalError("table events is missing and managedTable is false");
    });
    q.add("a");
    await sleep(60);
    expect(calls).toBe(1);
    expect(outcomes[0]?.kind).toBe("terminal");
  });

  it("runs a key again after the delay the handler asked for", async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const times: number[] = [];
    q.start(() => {
      times.push(Date.now());
      return times.length === 1 ? { requeueAfterMs: 50 } : undefined;
    });
    q.add("a");
    await sleep(150);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(45);
  });

  it("keeps the earliest of two delayed adds, and forget cancels it", async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const runs: string[] = [];
    q.start((k) => {
      runs.push(k);
    });
    q.addAfter("a", 30);
    q.addAfter("a", 1000);
    q.addAfter("b", 30);
    q.forget("b");
    await sleep(80);
    expect(runs).toEqual(["a"]);
    q.stop();
  });

  it("holds keys added before start until it starts", async () => {
    const q = new WorkQueue({ concurrency: 2 });
    const runs: string[] = [];
    q.add("x");
    await sleep(10);
    expect(runs).toEqual([]);
    q.start((k) => {
      runs.push(k);
    });
    await q.idle();
    expect(runs).toEqual(["x"]);
  });
});

describe("backoffDelay", () => {
  it("doubles from the base and is capped", () => {
    const opts = { baseMs: 100, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("spreads delays by the jitter fraction, never above the cap", () => {
    const opts = { baseMs: 1000, maxMs: 1500, jitter: 0.2 };
    expect(backoffDelay(1, opts, () => 0)).toBe(800);
    expect(backoffDelay(1, opts, () => 1)).toBe(1200);
    expect(backoffDelay(5, opts, () => 1)).toBe(1500);
    expect(backoffDelay(30, defaultBackoff, () => 0.5)).toBe(defaultBackoff.maxMs);
  });
});
