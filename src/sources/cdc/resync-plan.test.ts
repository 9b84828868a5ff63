import { describe, expect, it } from "vitest";
import { requestedResync, resyncComment, resyncPosition, resyncStage, resyncTable, staleSnapshotStreams, swapStep, withoutStale } from "./resync-plan.js";

describe("resync bookkeeping", () => {
  it("reads the requested id from the consumer's copy of the pipe", () => {
    expect(requestedResync({ metadata: { annotations: { "clickpipes.io/resync-id": " r1 " } } })).toBe("r1");
    expect(requestedResync({ metadata: { annotations: { "clickpipes.io/resync-id": "" } } })).toBeUndefined();
    expect(requestedResync({ metadata: {} })).toBeUndefined();
  });

  it("knows where a resync stands from the resync stream, another id's record meaning not started", () => {
    expect(resyncStage("r2", undefined)).toBe("fresh");
    expect(resyncStage("r2", resyncPosition("r1", "done"))).toBe("fresh");
    expect(resyncStage("r2", resyncPosition("r2", "loading"))).toBe("loading");
    expect(resyncStage("r2", resyncPosition("r2", "done"))).toBe("done");
  });

  it("resets only the fresh tables' snapshot streams of an earlier resync", () => {
    const checkpoints = new Map([
      ["snapshot/t", "done"],
      ["snapshot/t/0", "done"],
      ["snapshot/t_resync", "done"],
      ["snapshot/t_resync/0", "done"],
      ["snapshot/t_resync/1", "done"],
      ["snapshot/t_resync_other", "done"],
      ["slot/s", "0/1"],
    ]);
    const stale = staleSnapshotStreams(["t"], checkpoints);
    expect(stale.sort()).toEqual(["snapshot/t_resync", "snapshot/t_resync/0", "snapshot/t_resync/1"]);
    expect([...withoutStale(checkpoints, stale).keys()]).toEqual(["snapshot/t", "snapshot/t/0", "snapshot/t_resync_other", "slot/s"]);
    expect(resyncTable("t")).toBe("t_resync");
  });

  it("swaps a table once: a live table carrying this resync's comment is already swapped", () => {
    expect(swapStep("r1", { exists: true, comment: "" }, true)).toBe("exchange");
    expect(swapStep("r1", { exists: true, comment: resyncComment("r1") }, true)).toBe("already");
    expect(swapStep("r2", { exists: true, comment: resyncComment("r1") }, true)).toBe("exchange");
    expect(swapStep("r1", undefined, true)).toBe("rename");
    expect(swapStep("r1", { exists: true, comment: resyncComment("r1") }, false)).toBe("already");
  });
});
