import { describe, expect, it } from "vitest";
import { WorkQueue, type QueueOutcome } from "./queue.js";

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
    // random() = 1: the top of the ingest core's [d/2, d] jitter, so the delays are exact
    const q = new WorkQueue({ concurrency: 1, backoff: { initialMs: 10, maxMs: 1000, factor: 2 }, random: () => 1, onResult: (_k, o) => outcomes.push(o) });
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

  it("caps retry delays at maxMs", async () => {
    const outcomes: QueueOutcome[] = [];
    const q = new WorkQueue({ concurrency: 1, backoff: { initialMs: 4, maxMs: 8, factor: 2 }, random: () => 1, onResult: (_k, o) => outcomes.push(o) });
    let calls = 0;
    q.start(() => {
      calls++;
      if (calls < 5) throw new Error("ClickHouse unavailable");
    });
    q.add("a");
    await sleep(150);
    expect(outcomes.map((o) => (o.kind === "retry" ? o.afterMs : o.kind))).toEqual([4, 8, 8, 8, "done"]);
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
