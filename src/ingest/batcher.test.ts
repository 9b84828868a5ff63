import { describe, expect, it } from "vitest";
import { flushReason, flushWhenCaughtUp, msUntilDue } from "./batcher.js";

const limits = { maxRows: 100, maxBytes: 1000, maxWaitMs: 5000 };

describe("batcher", () => {
  it("never flushes an empty batch", () => {
    expect(flushReason({ recordCount: 0, bytes: 0, openedAt: undefined }, limits, 1e9)).toBeUndefined();
  });

  it("flushes on rows, then bytes, then wait time, whichever comes first", () => {
    expect(flushReason({ recordCount: 100, bytes: 10, openedAt: 0 }, limits, 1)).toBe("rows");
    expect(flushReason({ recordCount: 5, bytes: 1000, openedAt: 0 }, limits, 1)).toBe("bytes");
    expect(flushReason({ recordCount: 5, bytes: 10, openedAt: 0 }, limits, 4999)).toBeUndefined();
    expect(flushReason({ recordCount: 5, bytes: 10, openedAt: 0 }, limits, 5000)).toBe("wait");
  });

  it("inserts a caught-up batch early only after a full one (a backlog's tail), never an empty one", () => {
    const held = { recordCount: 3, bytes: 30, openedAt: 0 };
    expect(flushWhenCaughtUp(held, "rows")).toBe(true);
    expect(flushWhenCaughtUp(held, "bytes")).toBe(true);
    expect(flushWhenCaughtUp(held, "wait")).toBe(false);
    expect(flushWhenCaughtUp(held, "caughtUp")).toBe(false);
    expect(flushWhenCaughtUp(held, undefined)).toBe(false);
    expect(flushWhenCaughtUp({ recordCount: 0, bytes: 0, openedAt: 0 }, "rows")).toBe(false);
  });

  it("says how long until the wait limit fires", () => {
    expect(msUntilDue({ recordCount: 1, bytes: 1, openedAt: 1000 }, limits, 2000)).toBe(4000);
    expect(msUntilDue({ recordCount: 1, bytes: 1, openedAt: 0 }, limits, 9000)).toBe(0);
    expect(msUntilDue({ recordCount: 0, bytes: 0, openedAt: undefined }, limits, 0)).toBeUndefined();
  });
});
