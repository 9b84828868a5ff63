import { describe, expect, it } from "vitest";
import { MAX_FILE_BYTES, Position, isFinished, planFiles, replicaOf, resumeKey, resumeLine, resumeStream } from "./plan.js";
import type { ObjectInfo } from "./store.js";

const file = (key: string, size = 10): ObjectInfo => ({ key, size, etag: `e-${key}`, modified: 0 });
const one = { index: 0, count: 1 };

describe("planFiles", () => {
  it("takes unfinished files in lexical order and skips finished ones", () => {
    const listing = [file("b"), file("a"), file("c"), file("d")];
    const positions = new Map([["a", Position.done("e-a")], ["c", Position.failed("e-c")], ["d", "42"]]);
    expect(planFiles(listing, positions, { replica: one, continuous: false }).todo.map((f) => f.key)).toEqual(["b", "d"]);
  });

  it("continuous: only keys after the last finished one, as ClickPipes", () => {
    const positions = new Map([["b", Position.done("e-b")]]);
    expect(planFiles([file("a"), file("b"), file("c")], positions, { replica: one, continuous: true }).todo.map((f) => f.key)).toEqual(["c"]);
  });

  it("continuous: resumes after the replica's resume point when the files table has forgotten older files (7-day TTL)", () => {
    const listing = [file("2024/01/a"), file("2024/02/b"), file("2024/03/c")];
    expect(planFiles(listing, new Map(), { replica: one, continuous: true, after: "2024/02/b" }).todo.map((f) => f.key)).toEqual(["2024/03/c"]);
    // One-shot pipes list everything that is not finished, whatever the resume point.
    expect(planFiles(listing, new Map(), { replica: one, continuous: false, after: "2024/02/b" }).todo).toHaveLength(3);
    // A later finished file in the files table wins over an older resume point.
    expect(planFiles(listing, new Map([["2024/02/b", "done:"]]), { replica: one, continuous: true, after: "2024/01/a" }).todo.map((f) => f.key)).toEqual(["2024/03/c"]);
  });

  it("puts files over 10 GB aside", () => {
    const plan = planFiles([file("big", MAX_FILE_BYTES + 1), file("ok", MAX_FILE_BYTES)], new Map(), { replica: one, continuous: false });
    expect(plan.oversized.map((f) => f.key)).toEqual(["big"]);
    expect(plan.todo.map((f) => f.key)).toEqual(["ok"]);
  });

  it("splits the files between replicas: each file to exactly one, stably", () => {
    const listing = Array.from({ length: 100 }, (_, i) => file(`k/${i}.json`));
    const shares = [0, 1, 2].map((index) => planFiles(listing, new Map(), { replica: { index, count: 3 }, continuous: false }).todo.map((f) => f.key));
    expect(shares.flat().sort()).toEqual(listing.map((f) => f.key).sort());
    for (const share of shares) expect(share.length).toBeGreaterThan(10);
    expect(replicaOf("k/7.json", 3)).toBe(replicaOf("k/7.json", 3));
  });
});

describe("positions", () => {
  it("tells finished files and the line a record path resumes after", () => {
    expect([isFinished("done:x"), isFinished("failed:x"), isFinished("skipped:1"), isFinished("12"), isFinished(undefined)]).toEqual([true, true, true, false, false]);
    expect([resumeLine("12"), resumeLine("done:x"), resumeLine(undefined)]).toEqual([12, 0, 0]);
    expect([resumeStream(1), resumeKey(Position.failed("a:b/c")), resumeKey("12"), resumeKey(undefined)]).toEqual(["files/1", "a:b/c", undefined, undefined]);
  });
});
