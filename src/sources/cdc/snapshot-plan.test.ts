import { describe, expect, it } from "vitest";
import { DONE, decodePlan, encodePlan, partitionStream, pendingPartitions, planPartitions, planStream, snapshotDone, snapshotTableOf, tableProgress } from "./snapshot-plan.js";

describe("snapshot partition planning", () => {
  it("splits pages into ranges of about rowsPerPartition rows, the last one open", () => {
    expect(planPartitions(100, 10_000, 2_500)).toEqual([{ from: 0, to: 25 }, { from: 25, to: 50 }, { from: 50, to: 75 }, { from: 75 }]);
  });
  it("plans one open range for a small or empty table", () => {
    expect(planPartitions(0, 0, 100)).toEqual([{ from: 0 }]);
    expect(planPartitions(10, 50, 100)).toEqual([{ from: 0 }]);
  });
  it("never plans more ranges than pages", () => {
    expect(planPartitions(2, 1_000_000, 10)).toHaveLength(2);
  });
});

describe("resume bookkeeping", () => {
  const plan = { table: "t", partitions: planPartitions(100, 10_000, 2_500) };
  it("round-trips the plan and ignores what it cannot read", () => {
    expect(decodePlan("t", encodePlan(plan))).toEqual(plan);
    expect(decodePlan("t", DONE)).toBeUndefined();
    expect(decodePlan("t", "[{}]")).toBeUndefined();
    expect(decodePlan("t", undefined)).toBeUndefined();
  });
  it("reloads only the partitions not marked done", () => {
    const checkpoints = new Map([[partitionStream("t", 0), DONE], [partitionStream("t", 2), "loading"]]);
    expect(pendingPartitions(plan, checkpoints)).toEqual([1, 2, 3]);
    expect(tableProgress(plan, checkpoints)).toEqual({ done: 1, total: 4 });
  });
  it("knows a table whose load is complete and names snapshot streams", () => {
    expect(snapshotDone("t", new Map([[planStream("t"), DONE]]))).toBe(true);
    expect(snapshotDone("t", new Map([[planStream("t"), encodePlan(plan)]]))).toBe(false);
    expect(snapshotTableOf("snapshot/orders/3")).toBe("orders");
    expect(snapshotTableOf("slot/x")).toBeUndefined();
  });
});
