import { describe, expect, it } from "vitest";
import { binlogFileNumber, binlogVersion, decodeBinlogPosition, encodeBinlogPosition } from "./position.js";

describe("binlog positions", () => {
  it("round-trip with and without a GTID", () => {
    for (const p of [{ file: "mariadb-bin.000004", pos: 4242, gtid: "0-1-99" }, { file: "binlog.000001", pos: 4 }]) expect(decodeBinlogPosition(encodeBinlogPosition(p))).toEqual(p);
    expect(() => decodeBinlogPosition("{}")).toThrow(/lacks file and pos/);
  });

  it("versions grow with the file number, then the offset and the row index", () => {
    expect(binlogFileNumber("mariadb-bin.000042")).toBe(42);
    const a = binlogVersion(1, 4_000_000_000, 0);
    const b = binlogVersion(2, 4, 0);
    expect(a < b).toBe(true);
    expect(binlogVersion(2, 100, 1) > binlogVersion(2, 100, 0)).toBe(true);
    expect(binlogVersion(2, 100, 0)).toBe(2n * 2n ** 32n + 100n);
  });
});
