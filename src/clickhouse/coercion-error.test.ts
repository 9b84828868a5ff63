import { describe, expect, it } from "vitest";
import { CoercionError } from "./coercion-error.js";

describe("CoercionError", () => {
  it("renders the column, the path, the expected type, the value and the reason", () => {
    const e = new CoercionError("UInt8", 300, "out of range 0..255");
    expect(e.message).toBe("expected UInt8, got 300 (out of range 0..255)");
    expect(e.within(".b").within("[2]").message).toBe("at [2].b: expected UInt8, got 300 (out of range 0..255)");
    expect(e.within("[2]").withColumn("items").message).toBe('column "items" at [2]: expected UInt8, got 300 (out of range 0..255)');
    expect(e.withColumn("n")).toMatchObject({ expected: "UInt8", value: 300, reason: "out of range 0..255", path: "", column: "n" });
  });

  it("renders values JSON cannot", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(new CoercionError("String", cyclic, "r").message).toContain("got [object Object] (");
    expect(new CoercionError("Int8", 5n, "r").message).toContain("got 5n (r)");
    expect(new CoercionError("Int8", undefined, "r").message).toContain("got undefined (r)");
    expect(new CoercionError("Int8", () => 1, "r").message).toContain("got a function (r)");
  });
});
