import { describe, expect, it } from "vitest";
import { UnitParseError, parseByteSize, parseDuration } from "./units.js";

describe("parseDuration", () => {
  it.each([
    ["5s", 5_000],
    ["500ms", 500],
    ["1m30s", 90_000],
    ["2h", 7_200_000],
    ["1.5s", 1_500],
    ["0s", 0],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "5 s", "five seconds", "-1s", "5d"])("rejects %j and says what is accepted", (text) => {
    expect(() => parseDuration(text)).toThrow(UnitParseError);
    expect(() => parseDuration(text)).toThrow(/a duration such as/);
  });
});

describe("parseByteSize", () => {
  it.each([
    ["20MiB", 20 * 1024 * 1024],
    ["10GB", 10_000_000_000],
    ["512KiB", 524_288],
    ["1024", 1024],
    ["1.5KiB", 1536],
    ["7B", 7],
  ])("reads %s as %d bytes", (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it("takes a number as bytes", () => {
    expect(parseByteSize(4096)).toBe(4096);
  });

  it.each(["", "20 MiB", "20XB", "lots"])("rejects %j", (text) => {
    expect(() => parseByteSize(text)).toThrow(/a byte count or a size/);
  });

  it("rejects negative and fractional byte counts", () => {
    expect(() => parseByteSize(-1)).toThrow(UnitParseError);
    expect(() => parseByteSize(1.5)).toThrow(UnitParseError);
  });
});
