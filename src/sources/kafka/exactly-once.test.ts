import { describe, expect, it } from "vitest";
import type { RawRecord } from "../../ingest/source.js";
import { filterLanded } from "./exactly-once.js";

const records = (offsets: number[]): RawRecord[] =>
  offsets.map((o) => ({ value: Buffer.from("{}"), key: null, timestamp: 0, stream: "t/0", position: String(o) }));
const positions = (rs: readonly RawRecord[]): string[] => rs.map((r) => r.position);

describe("filterLanded", () => {
  it("hands everything over when nothing is in the table beyond the checkpoint", () => {
    const all = records([5, 6, 7]);
    expect(filterLanded(all, { checkpoint: 4, landed: new Set() })).toEqual({ records: all, progress: undefined });
  });

  it("drops records at or below the checkpoint and those a dead consumer already inserted", () => {
    const result = filterLanded(records([3, 4, 5, 6, 7, 8]), { checkpoint: 4, landed: new Set([5, 6]) });
    expect(positions(result.records)).toEqual(["7", "8"]);
    expect(result.progress).toBeUndefined();
  });

  it("reports the last dropped position as progress when the fetch ends in records already in", () => {
    const result = filterLanded(records([5, 6, 7]), { checkpoint: 4, landed: new Set([6, 7]) });
    expect(positions(result.records)).toEqual(["5"]);
    expect(result.progress).toBe("7");
  });
});
