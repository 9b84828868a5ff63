import { describe, expect, it } from "vitest";
import { intBounds, integerTextInRange, normaliseIntegerText, splitDecimal } from "./numeric.js";

describe("splitDecimal", () => {
  it.each([
    ["12.50", { negative: false, int: "12", frac: "50" }],
    ["-0.5", { negative: true, int: "", frac: "5" }],
    ["+007", { negative: false, int: "7", frac: "" }],
    [".5", { negative: false, int: "", frac: "5" }],
    ["5.", { negative: false, int: "5", frac: "" }],
    ["1.5e3", { negative: false, int: "1500", frac: "" }],
    ["1.5E-3", { negative: false, int: "", frac: "0015" }],
    ["123e-1", { negative: false, int: "12", frac: "3" }],
  ])("splits %s exactly", (text, parts) => {
    expect(splitDecimal(text)).toEqual(parts);
  });

  it.each(["", "-", ".", "1.2.3", "1e", "1e+", "0x10", " 1", "1e101", "NaN"])("refuses %j", (text) => {
    expect(splitDecimal(text)).toBeUndefined();
  });
});

describe("integer texts", () => {
  it("normalises sign and leading zeros", () => {
    expect(normaliseIntegerText("-0007")).toBe("-7");
    expect(normaliseIntegerText("+0")).toBe("0");
    expect(normaliseIntegerText("-0")).toBe("0");
    expect(normaliseIntegerText("1.0")).toBeUndefined();
    expect(normaliseIntegerText("")).toBeUndefined();
  });

  it("compares against type bounds without BigInt", () => {
    const int64 = intBounds(true, 64);
    expect(int64).toEqual({ min: "-9223372036854775808", max: "9223372036854775807" });
    expect(integerTextInRange("9223372036854775807", int64)).toBe(true);
    expect(integerTextInRange("9223372036854775808", int64)).toBe(false);
    expect(integerTextInRange("-9223372036854775808", int64)).toBe(true);
    expect(integerTextInRange("-9223372036854775809", int64)).toBe(false);
    expect(integerTextInRange("-1", intBounds(false, 8))).toBe(false);
    expect(integerTextInRange("255", intBounds(false, 8))).toBe(true);
  });
});
