import { describe, expect, it } from "vitest";
import { snapshotProgress, snapshotSql } from "./snapshot-progress.js";

const plan = (n: number): string => JSON.stringify(Array.from({ length: n }, (_, i) => ({ from: i * 10, to: (i + 1) * 10 })));

describe("snapshotProgress", () => {
  it("counts partitions done of the plan and the rows read, per table, while the load runs", () => {
    const tables = snapshotProgress([
      { stream: "snapshot/orders", rows: 0, position: plan(3) },
      { stream: "snapshot/orders/0", rows: 20_000, position: "done" },
      { stream: "snapshot/orders/2", rows: 5_000, position: "" },
      { stream: "snapshot/customers", rows: 0, position: plan(1) },
    ]);
    expect(tables).toEqual([
      { table: "customers", partitionsDone: 0, partitionsTotal: 1, rows: 0, completed: false },
      { table: "orders", partitionsDone: 1, partitionsTotal: 3, rows: 25_000, completed: false },
    ]);
  });

  it("marks a table completed once its plan stream says done, every partition counted", () => {
    const tables = snapshotProgress([
      { stream: "snapshot/orders", rows: 0, position: "done" },
      { stream: "snapshot/orders/0", rows: 20_000, position: "done" },
      { stream: "snapshot/orders/1", rows: 12_345, position: "done" },
    ]);
    expect(tables).toEqual([{ table: "orders", partitionsDone: 2, partitionsTotal: 2, rows: 32_345, completed: true }]);
  });

  it("ignores streams that are not snapshot bookkeeping and a plan it cannot read", () => {
    expect(snapshotProgress([{ stream: "slot/0", rows: 9, position: "0/16B3748" }])).toEqual([]);
    expect(snapshotProgress([{ stream: "snapshot/t", rows: 0, position: "{not json" }, { stream: "snapshot/t/0", rows: 3, position: "done" }])).toEqual([
      { table: "t", partitionsDone: 1, partitionsTotal: 1, rows: 3, completed: false },
    ]);
  });

  it("reads only the snapshot streams of the state table", () => {
    expect(snapshotSql("db")).toMatch(/FROM `db`\.clickpipes_state WHERE startsWith\(source_position, 'snapshot\/'\) OR source_position = 'resync' GROUP BY pipe, source_position$/);
  });
});
