import { describe, expect, it } from "vitest";
import { coerce, rejection } from "../../test/helpers/coerce.js";
import { defaultValue, zeroValue } from "./coerce.js";
import { parseType } from "./type-parser.js";


describe("Nullable and missing values", () => {
  it("writes null for Nullable columns and leaves other columns to their DEFAULT", () => {
    expect(coerce("Nullable(Int32)", null)).toBeNull();
    expect(coerce("Nullable(Int32)", undefined)).toBeUndefined();
    expect(coerce("LowCardinality(Nullable(String))", null)).toBeNull();
    expect(coerce("Int32", null)).toBeUndefined();
    expect(coerce("String", undefined)).toBeUndefined();
    expect(defaultValue(parseType("Nullable(String)"))).toBeNull();
    expect(defaultValue(parseType("Array(String)"))).toBeUndefined();
    expect(coerce("Nullable(UInt8)", "7")).toBe(7);
  });

  it("gives each type ClickHouse's zero value", () => {
    expect(zeroValue(parseType("Int64"))).toBe("0");
    expect(zeroValue(parseType("Enum8('b' = 2, 'a' = -1)"))).toBe("a");
    expect(zeroValue(parseType("Tuple(a String, b Array(UInt8))"))).toEqual({ a: "", b: [] });
    expect(zeroValue(parseType("Tuple(String, Nullable(UInt8))"))).toEqual(["", null]);
    expect(zeroValue(parseType("LowCardinality(String)"))).toBe("");
  });
});

describe("composites", () => {
  it("coerces Array elements and locates a bad one", () => {
    expect(coerce("Array(UInt8)", [1, "2", null])).toEqual([1, 2, 0]);
    expect(coerce("Array(Nullable(UInt8))", [1, null])).toEqual([1, null]);
    const e = rejection("Array(UInt8)", [1, 2, 3, 300]);
    expect(e.path).toBe("[3]");
    expect(e.message).toBe("at [3]: expected UInt8, got 300 (out of range 0..255)");
    expect(e.withColumn("tags").message).toBe('column "tags" at [3]: expected UInt8, got 300 (out of range 0..255)');
    expect(rejection("Array(UInt8)", "1,2").message).toBe('expected Array(UInt8), got "1,2" (not an array)');
  });

  it("coerces Map keys and values from a JSON object", () => {
    expect(coerce("Map(String, UInt64)", { a: 1, b: "2" })).toEqual({ a: "1", b: "2" });
    expect(coerce("Map(UInt8, Array(String))", { "01": ["x", 1] })).toEqual({ "1": ["x", "1"] });
    expect(rejection("Map(String, UInt8)", { ok: 1, "bad key": -1 }).message).toBe('at ["bad key"]: expected UInt8, got -1 (out of range 0..255)');
    expect(rejection("Map(UInt8, String)", { x: "a" }).message).toBe('at .x (key): expected UInt8, got "x" (not an integer)');
    expect(rejection("Map(String, String)", [1]).reason).toBe("not a JSON object");
  });

  it("coerces Tuples from arrays, and named Tuples from objects too", () => {
    expect(coerce("Tuple(String, UInt8)", ["x", "1"])).toEqual(["x", 1]);
    expect(coerce("Tuple(a String, b Nullable(UInt8))", { a: 5, extra: true })).toEqual({ a: "5", b: null });
    expect(coerce("Tuple(a String, b UInt8)", ["x", 2])).toEqual({ a: "x", b: 2 });
    expect(rejection("Tuple(String, UInt8)", ["x"]).reason).toBe("has 1 elements, expected 2");
    expect(rejection("Tuple(a String, b UInt8)", { a: "x", b: "y" }).message).toBe('at .b: expected UInt8, got "y" (not an integer)');
    expect(rejection("Array(Tuple(a String, b Date))", [{ a: "", b: "2020-01-01" }, { a: "", b: "2020-13-01" }]).path).toBe("[1].b");
  });

  it("passes JSON objects through and parses JSON text", () => {
    expect(coerce("JSON", { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(coerce("JSON", '{"a":1}')).toEqual({ a: 1 });
    expect(rejection("JSON", "[1]").reason).toBe("not a JSON object");
    expect(rejection("JSON", "{").reason).toContain("not a JSON object: ");
    expect(coerce("Dynamic", [1, "a"])).toEqual([1, "a"]);
    expect(coerce("Variant(String, UInt64)", null)).toBeNull();
  });
});

describe("CoercionError", () => {
  it("names the column, the expected type, the value and the reason", () => {
    const e = rejection("Decimal(10,2)", "abc").withColumn("price");
    expect(e.message).toBe('column "price": expected Decimal(10, 2), got "abc" (not a decimal number)');
    expect([e.expected, e.value, e.reason, e.path, e.column]).toEqual(["Decimal(10, 2)", "abc", "not a decimal number", "", "price"]);
  });

  it("shortens long values in the message", () => {
    const e = rejection("UInt8", "x".repeat(500));
    expect(e.message.length).toBeLessThan(200);
    expect(e.value).toBe("x".repeat(500));
  });
});
