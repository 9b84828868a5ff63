import { describe, expect, it } from "vitest";
import { PartitionLags, lagFromCommitted } from "./caught-up.js";

describe("partition lags", () => {
  it("is caught up only when every assigned partition is known to be at its high watermark", () => {
    const lags = new PartitionLags();
    expect(lags.caughtUp()).toBe(false);
    lags.assign(["t/0", "t/1", "t/2"]);
    lags.fetched("t/0", 0);
    lags.fetched("t/1", 0);
    // t/2 left out of the fetch responses so far: not caught up, whatever the others say.
    expect(lags.caughtUp()).toBe(false);
    lags.fetched("t/2", 0);
    expect(lags.caughtUp()).toBe(true);
    lags.fetched("t/1", 40);
    expect(lags.caughtUp()).toBe(false);
    expect(lags.known()).toEqual(new Map([["t/0", 0], ["t/1", 40], ["t/2", 0]]));
  });

  it("takes the join's lag only for partitions nothing was fetched from since, and forgets partitions given up", () => {
    const lags = new PartitionLags();
    lags.assign(["t/0", "t/1"]);
    lags.fetched("t/0", 0);
    lags.initial("t/0", 500);
    lags.initial("t/1", 0);
    lags.initial("t/9", 7);
    expect(lags.known()).toEqual(new Map([["t/0", 0], ["t/1", 0]]));
    expect(lags.caughtUp()).toBe(true);
    lags.assign(["t/1"]);
    expect(lags.known()).toEqual(new Map());
  });

  it("computes a partition's lag from the group's committed offset", () => {
    expect(lagFromCommitted("120", "0", "150", false)).toBe(30);
    expect(lagFromCommitted("150", "0", "150", false)).toBe(0);
    expect(lagFromCommitted("-1", "100", "150", false)).toBe(50);
    expect(lagFromCommitted("-1", "100", "150", true)).toBe(0);
    expect(lagFromCommitted("-1", "0", "0", false)).toBe(0);
  });
});
