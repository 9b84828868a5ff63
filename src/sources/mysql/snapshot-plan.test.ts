import { describe, expect, it } from "vitest";
import { decodeBoundaries, encodeBoundaries, rangeFilter, rangesOf } from "./snapshot-plan.js";

describe("primary-key ranges", () => {
  it("makes n+1 ranges from n boundaries, open at both ends", () => {
    expect(rangesOf("t", [[10], [20]])).toEqual([
      { targetTable: "t", index: 0, upTo: [10] },
      { targetTable: "t", index: 1, after: [10], upTo: [20] },
      { targetTable: "t", index: 2, after: [20] },
    ]);
    expect(rangesOf("t", [])).toEqual([{ targetTable: "t", index: 0 }]);
  });

  it("selects a range with row constructors over a composite key", () => {
    expect(rangeFilter(["a", "b"], { targetTable: "t", index: 1, after: [1, "x"], upTo: [2, "y"] })).toEqual({ sql: " WHERE (`a`, `b`) > (?, ?) AND (`a`, `b`) <= (?, ?)", params: [1, "x", 2, "y"] });
    expect(rangeFilter(["id"], { targetTable: "t", index: 0 })).toEqual({ sql: "", params: [] });
  });

  it("stores boundaries and refuses plans it did not write", () => {
    expect(decodeBoundaries(encodeBoundaries([[1, "a"]]))).toEqual([[1, "a"]]);
    expect(decodeBoundaries("[{\"from\":0}]")).toBeUndefined();
    expect(decodeBoundaries("not json")).toBeUndefined();
    expect(decodeBoundaries(undefined)).toBeUndefined();
  });
});
