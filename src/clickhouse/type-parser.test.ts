import { describe, expect, it } from "vitest";
import { formatType, parseType, ParseTypeError, sameType } from "./type-parser.js";

describe("parseType", () => {
  it.each([
    ["Int8", { kind: "int", signed: true, bits: 8 }],
    ["UInt256", { kind: "int", signed: false, bits: 256 }],
    ["Float32", { kind: "float", bits: 32 }],
    ["BFloat16", { kind: "bfloat16" }],
    ["Bool", { kind: "bool" }],
    ["String", { kind: "string" }],
    ["FixedString(16)", { kind: "fixedString", length: 16 }],
    ["Date", { kind: "date" }],
    ["Date32", { kind: "date32" }],
    ["DateTime", { kind: "dateTime" }],
    ["DateTime('UTC')", { kind: "dateTime", timezone: "UTC" }],
    ["DateTime64(3)", { kind: "dateTime64", precision: 3 }],
    ["DateTime64(6, 'Europe/Berlin')", { kind: "dateTime64", precision: 6, timezone: "Europe/Berlin" }],
    ["UUID", { kind: "uuid" }],
    ["IPv4", { kind: "ipv4" }],
    ["IPv6", { kind: "ipv6" }],
    ["JSON", { kind: "json" }],
    ["Object('json')", { kind: "json" }],
    ["JSON(max_dynamic_paths=10, a.b UInt32, SKIP c)", { kind: "json" }],
    ["Dynamic", { kind: "dynamic" }],
  ])("parses %s", (text, expected) => {
    expect(parseType(text)).toEqual(expected);
  });

  it("parses every Decimal spelling with its precision and scale", () => {
    expect(parseType("Decimal(10,2)")).toEqual({ kind: "decimal", precision: 10, scale: 2 });
    expect(parseType("Decimal(10)")).toEqual({ kind: "decimal", precision: 10, scale: 0 });
    expect(parseType("Decimal32(4)")).toEqual({ kind: "decimal", precision: 9, scale: 4 });
    expect(parseType("Decimal64(4)")).toEqual({ kind: "decimal", precision: 18, scale: 4 });
    expect(parseType("Decimal128(4)")).toEqual({ kind: "decimal", precision: 38, scale: 4 });
    expect(parseType("Decimal256(4)")).toEqual({ kind: "decimal", precision: 76, scale: 4 });
  });

  it("parses Enum members, explicit and auto-numbered", () => {
    expect(parseType("Enum8('a' = 1, 'b' = -2)")).toEqual({
      kind: "enum",
      bits: 8,
      members: [
        { name: "a", value: 1 },
        { name: "b", value: -2 },
      ],
    });
    expect(parseType("Enum16('it''s' = 1000)")).toEqual({ kind: "enum", bits: 16, members: [{ name: "it's", value: 1000 }] });
    expect(parseType("Enum('x', 'y')")).toEqual({
      kind: "enum",
      bits: 8,
      members: [
        { name: "x", value: 1 },
        { name: "y", value: 2 },
      ],
    });
  });

  it("parses wrappers and composites", () => {
    expect(parseType("LowCardinality(Nullable(String))")).toEqual({
      kind: "lowCardinality",
      inner: { kind: "nullable", inner: { kind: "string" } },
    });
    expect(parseType("Array(Nullable(Int32))")).toEqual({ kind: "array", element: { kind: "nullable", inner: { kind: "int", signed: true, bits: 32 } } });
    expect(parseType("Map(String, Array(UInt8))")).toEqual({
      kind: "map",
      key: { kind: "string" },
      value: { kind: "array", element: { kind: "int", signed: false, bits: 8 } },
    });
    expect(parseType("Tuple(String, UInt8)")).toEqual({ kind: "tuple", elements: [{ type: { kind: "string" } }, { type: { kind: "int", signed: false, bits: 8 } }] });
    expect(parseType("Tuple(a String, `b c` Nullable(Float64))")).toEqual({
      kind: "tuple",
      elements: [
        { name: "a", type: { kind: "string" } },
        { name: "b c", type: { kind: "nullable", inner: { kind: "float", bits: 64 } } },
      ],
    });
    expect(parseType("Variant(String, UInt64)")).toEqual({ kind: "variant", variants: [{ kind: "string" }, { kind: "int", signed: false, bits: 64 }] });
  });

  it("treats SimpleAggregateFunction(f, T) as T", () => {
    expect(parseType("SimpleAggregateFunction(sum, UInt64)")).toEqual({ kind: "int", signed: false, bits: 64 });
    expect(parseType("SimpleAggregateFunction(max, DateTime64(3,'UTC'))")).toEqual({ kind: "dateTime64", precision: 3, timezone: "UTC" });
    expect(parseType("SimpleAggregateFunction(quantile(0.5), Float64)")).toEqual({ kind: "float", bits: 64 });
  });

  it("accepts SQL aliases and any letter case", () => {
    expect(parseType("BIGINT")).toEqual({ kind: "int", signed: true, bits: 64 });
    expect(parseType("boolean")).toEqual({ kind: "bool" });
    expect(parseType("  nullable( string )  ")).toEqual({ kind: "nullable", inner: { kind: "string" } });
  });

  it.each([
    ["", "expected a type name but found end of input"],
    ["Strin", 'unknown or unsupported type "Strin"'],
    ["Array(String", 'expected ")" but found end of input'],
    ["String)", 'unexpected ")" after the type'],
    ["Decimal(10, 11)", "Decimal scale must be an integer in 0..10"],
    ["Decimal(77, 2)", "Decimal precision must be an integer in 1..76"],
    ["DateTime64(10)", "DateTime64 precision must be an integer in 0..9"],
    ["FixedString(0)", "FixedString length must be an integer in 1..16777215"],
    ["Enum8('a' = 200)", "Enum8 value 200 of 'a' is outside -128..127"],
    ["Enum8('a' = 1, 'a' = 2)", "duplicate Enum name 'a'"],
    ["Nested(a String)", "Nested columns are not supported; use Array(Tuple(...)) instead"],
    ["Nullable(Array(String))", "Nullable cannot wrap Array(String)"],
    ["Object('xml')", "only Object('json') is supported"],
    ["Tuple(a String, UInt8)", "a Tuple must name all of its elements or none"],
    ["String(3)", "type String does not take arguments or is not supported"],
    ["AggregateFunction(sum, UInt64)", "type AggregateFunction does not take arguments or is not supported"],
    ["DateTime('UTC", "unterminated ' quote"],
    ["Int32 $", 'unexpected character "$"'],
  ])("rejects %j with a clear message", (text, reason) => {
    let error: unknown;
    try {
      parseType(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseTypeError);
    expect((error as ParseTypeError).message).toContain(reason);
    expect((error as ParseTypeError).message).toContain(JSON.stringify(text));
  });
});

describe("formatType", () => {
  it.each([
    ["Decimal(10,2)", "Decimal(10, 2)"],
    ["Decimal32(2)", "Decimal(9, 2)"],
    ["DateTime64(3,'UTC')", "DateTime64(3, 'UTC')"],
    ["Enum8('a'=1,'b'=2)", "Enum8('a' = 1, 'b' = 2)"],
    ["Map(String,Array(Nullable(UInt8)))", "Map(String, Array(Nullable(UInt8)))"],
    ["Tuple(a String,`b c` UInt8)", "Tuple(a String, `b c` UInt8)"],
    ["LowCardinality(String)", "LowCardinality(String)"],
    ["bigint", "Int64"],
  ])("prints %s as ClickHouse does: %s", (text, canonical) => {
    expect(formatType(parseType(text))).toBe(canonical);
    expect(formatType(parseType(canonical))).toBe(canonical);
  });

  it("compares types regardless of spelling", () => {
    expect(sameType(parseType("DateTime64(3, 'UTC')"), parseType("DateTime64(3,'UTC')"))).toBe(true);
    expect(sameType(parseType("DateTime64(3, 'UTC')"), parseType("DateTime64(6,'UTC')"))).toBe(false);
  });
});
