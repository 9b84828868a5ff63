import { describe, expect, it } from "vitest";
import { CoercionError, compileCoercer, defaultValue, zeroValue } from "./coerce.js";
import { parseType } from "./type-parser.js";

function coerce(type: string, value: unknown): unknown {
  return compileCoercer(parseType(type))(value);
}

function rejection(type: string, value: unknown): CoercionError {
  try {
    coerce(type, value);
  } catch (e) {
    if (e instanceof CoercionError) return e;
    throw e;
  }
  throw new Error(`${type} accepted ${JSON.stringify(value)}`);
}

describe("integers", () => {
  it("accepts in-range numbers and integer strings for small integers", () => {
    expect(coerce("Int8", -128)).toBe(-128);
    expect(coerce("UInt8", 255)).toBe(255);
    expect(coerce("Int32", "-2147483648")).toBe(-2147483648);
    expect(coerce("UInt32", "+007")).toBe(7);
    expect(coerce("UInt16", 10n)).toBe(10);
  });

  it("rejects out-of-range, fractional and non-numeric values", () => {
    expect(rejection("UInt8", 256).message).toBe("expected UInt8, got 256 (out of range 0..255)");
    expect(rejection("Int8", -129).reason).toBe("out of range -128..127");
    expect(rejection("Int32", 1.5).reason).toBe("not an integer");
    expect(rejection("Int32", "12abc").reason).toBe("not an integer");
    expect(rejection("Int32", "").reason).toBe("not an integer");
    expect(rejection("Int32", true).reason).toBe("not an integer");
    expect(rejection("UInt32", -1).reason).toBe("out of range 0..4294967295");
  });

  it("emits 64-bit and wider integers as exact strings", () => {
    expect(coerce("Int64", 42)).toBe("42");
    expect(coerce("Int64", "-9223372036854775808")).toBe("-9223372036854775808");
    expect(coerce("UInt64", "18446744073709551615")).toBe("18446744073709551615");
    expect(coerce("UInt64", 2n ** 64n - 1n)).toBe("18446744073709551615");
    expect(coerce("Int128", "-170141183460469231731687303715884105728")).toBe("-170141183460469231731687303715884105728");
    expect(coerce("UInt256", "000115792089237316195423570985008687907853269984665640564039457584007913129639935")).toBe(
      "115792089237316195423570985008687907853269984665640564039457584007913129639935",
    );
    expect(coerce("Int64", "-0")).toBe("0");
  });

  it("rejects 64-bit values out of range or already rounded by JSON", () => {
    expect(rejection("UInt64", "18446744073709551616").reason).toBe("out of range 0..18446744073709551615");
    expect(rejection("Int64", "9223372036854775808").reason).toBe("out of range -9223372036854775808..9223372036854775807");
    expect(rejection("UInt64", "-1").reason).toContain("out of range");
    expect(rejection("UInt64", -1).reason).toContain("out of range");
    expect(rejection("Int64", 2 ** 60).reason).toBe("beyond 2^53 a JSON number has already lost precision; send it as a string");
    expect(rejection("Int64", "1e3").reason).toBe("not an integer");
  });
});

describe("floats", () => {
  it("accepts numbers, numeric strings and nan/inf", () => {
    expect(coerce("Float64", 1.5)).toBe(1.5);
    expect(coerce("Float32", "2.5e3")).toBe(2500);
    expect(coerce("Float64", "NaN")).toBe("nan");
    expect(coerce("Float64", "-Infinity")).toBe("-inf");
    expect(coerce("BFloat16", 1)).toBe(1);
  });

  it("rejects text and Float32 overflow", () => {
    expect(rejection("Float64", "1.2.3").reason).toBe("not a number");
    expect(rejection("Float64", "0x10").reason).toBe("not a number");
    expect(rejection("Float32", 1e39).reason).toContain("out of range");
    expect(rejection("Float64", { a: 1 }).reason).toBe("not a number");
  });
});

describe("Decimal", () => {
  it("emits exact text, cutting fraction digits past the scale", () => {
    expect(coerce("Decimal(10,2)", "12345678.99")).toBe("12345678.99");
    expect(coerce("Decimal(10,2)", 1.239)).toBe("1.23");
    expect(coerce("Decimal(10,2)", -0.5)).toBe("-0.5");
    expect(coerce("Decimal(10,2)", "1.5e2")).toBe("150");
    expect(coerce("Decimal(10,2)", 0.1 + 0.2)).toBe("0.30");
    expect(coerce("Decimal(76,10)", "123456789012345678901234567890.0123456789")).toBe("123456789012345678901234567890.0123456789");
    expect(coerce("Decimal(5,0)", "007")).toBe("7");
    expect(coerce("Decimal(5,0)", ".5")).toBe("0");
  });

  it("rejects text and too many integer digits with a precise message", () => {
    expect(rejection("Decimal(10,2)", "abc").message).toBe('expected Decimal(10, 2), got "abc" (not a decimal number)');
    expect(rejection("Decimal(10,2)", "123456789").reason).toBe("more than 8 digits before the decimal point");
    expect(rejection("Decimal(3,3)", 1).reason).toBe("more than 0 digits before the decimal point");
    expect(rejection("Decimal(38,0)", 1e20).reason).toContain("lost precision");
    expect(rejection("Decimal(10,2)", "1e500").reason).toBe("not a decimal number");
  });
});

describe("Bool, String, FixedString", () => {
  it("reads booleans from true/false, 1/0 and their text", () => {
    expect([true, false, 1, 0, "true", "FALSE", "1"].map((v) => coerce("Bool", v))).toEqual([true, false, true, false, true, false, true]);
    expect(rejection("Bool", 2).reason).toBe('not true/false, 1/0 or "true"/"false"');
    expect(rejection("Bool", "yes").expected).toBe("Bool");
  });

  it("stores non-string values in String columns as their JSON text", () => {
    expect(coerce("String", "héllo")).toBe("héllo");
    expect(coerce("String", 12.5)).toBe("12.5");
    expect(coerce("String", true)).toBe("true");
    expect(coerce("String", { a: [1, "x"] })).toBe('{"a":[1,"x"]}');
    expect(coerce("LowCardinality(String)", 7)).toBe("7");
  });

  it("checks FixedString length in UTF-8 bytes", () => {
    expect(coerce("FixedString(4)", "abcd")).toBe("abcd");
    expect(coerce("FixedString(4)", "é")).toBe("é");
    expect(rejection("FixedString(4)", "ééé").reason).toBe("longer than 4 bytes");
    expect(rejection("FixedString(2)", "abc").message).toBe('expected FixedString(2), got "abc" (longer than 2 bytes)');
  });
});

describe("Date and Date32", () => {
  it("reads ISO dates and date-times (in UTC) into YYYY-MM-DD", () => {
    expect(coerce("Date", "2024-02-29")).toBe("2024-02-29");
    expect(coerce("Date", "2024-02-29T23:30:00-01:00")).toBe("2024-03-01");
    expect(coerce("Date", "2024-02-29 10:00:00")).toBe("2024-02-29");
    expect(coerce("Date32", "1900-01-01")).toBe("1900-01-01");
    expect(coerce("Date32", "2299-12-31")).toBe("2299-12-31");
  });

  it("reads numbers as day numbers, or Unix seconds past the day range", () => {
    expect(coerce("Date", 19675)).toBe("2023-11-14");
    expect(coerce("Date", 1_700_000_000)).toBe("2023-11-14");
    expect(coerce("Date32", -25567)).toBe("1900-01-01");
    expect(coerce("Date", new Date("2023-11-14T23:59:59.999Z"))).toBe("2023-11-14");
  });

  it("rejects impossible and out-of-range dates", () => {
    expect(rejection("Date", "2023-02-29").reason).toBe("no such calendar date");
    expect(rejection("Date", "1969-12-31").reason).toBe("out of range 1970-01-01..2149-06-06");
    expect(rejection("Date", "2149-06-07").reason).toBe("out of range 1970-01-01..2149-06-06");
    expect(rejection("Date32", "1899-12-31").reason).toBe("out of range 1900-01-01..2299-12-31");
    expect(rejection("Date", "14/11/2023").reason).toBe("not an ISO 8601 date (YYYY-MM-DD)");
    expect(rejection("Date", true).reason).toBe("not an ISO 8601 date/time or Unix seconds");
  });
});

describe("DateTime", () => {
  it("writes Unix seconds for ISO 8601 input with any offset, or none meaning UTC", () => {
    expect(coerce("DateTime", "2023-11-14T22:13:20Z")).toBe(1_700_000_000);
    expect(coerce("DateTime", "2023-11-14T22:13:20")).toBe(1_700_000_000);
    expect(coerce("DateTime", "2023-11-14 22:13:20.999")).toBe(1_700_000_000);
    expect(coerce("DateTime", "2023-11-15T00:13:20+02:00")).toBe(1_700_000_000);
    expect(coerce("DateTime", "2023-11-14T17:43:20-0430")).toBe(1_700_000_000);
    expect(coerce("DateTime", "2023-11-14T23:13+01")).toBe(1_699_999_980);
    expect(coerce("DateTime('UTC')", "2023-11-14")).toBe(1_699_920_000);
  });

  it("accepts Unix seconds as numbers and digit strings, and JS Dates", () => {
    expect(coerce("DateTime", 1_700_000_000)).toBe(1_700_000_000);
    expect(coerce("DateTime", "1700000000")).toBe(1_700_000_000);
    expect(coerce("DateTime", 1_700_000_000.7)).toBe(1_700_000_000);
    expect(coerce("DateTime", new Date(1_700_000_000_500))).toBe(1_700_000_000);
  });

  it("rejects malformed text and instants outside 1970..2106", () => {
    expect(rejection("DateTime", "2023-11-14T25:00:00Z").reason).toBe("time of day out of range");
    expect(rejection("DateTime", "2023-11-14T22:13:20+25:00").reason).toBe("invalid UTC offset");
    expect(rejection("DateTime", "2023-11-14T22:13:20 UTC").reason).toBe("unexpected text after the time");
    expect(rejection("DateTime", "2023-11-14X22").reason).toBe("expected 'T' or ' ' between date and time");
    expect(rejection("DateTime", "1969-12-31T23:59:59Z").reason).toBe("out of range 1970-01-01 00:00:00..2106-02-07 06:28:15");
    expect(rejection("DateTime", 1_700_000_000_000).message).toBe(
      "expected DateTime, got 1700000000000 (out of range 1970-01-01 00:00:00..2106-02-07 06:28:15)",
    );
    expect(rejection("DateTime", "yesterday").reason).toBe("not an ISO 8601 date (YYYY-MM-DD)");
  });
});

describe("DateTime64", () => {
  it("writes Unix seconds with exactly the precision's fraction digits", () => {
    expect(coerce("DateTime64(3)", "2023-11-14T22:13:20.123456Z")).toBe("1700000000.123");
    expect(coerce("DateTime64(6, 'UTC')", "2023-11-14T22:13:20.1Z")).toBe("1700000000.100000");
    expect(coerce("DateTime64(0)", "2023-11-14T22:13:20.9Z")).toBe("1700000000");
    expect(coerce("DateTime64(9)", "2023-11-14T22:13:20.123456789+00:00")).toBe("1700000000.123456789");
    expect(coerce("DateTime64(3)", 1_700_000_000.5)).toBe("1700000000.500");
    expect(coerce("DateTime64(3)", "1700000000.25")).toBe("1700000000.250");
    expect(coerce("DateTime64(3)", new Date(1_700_000_000_007))).toBe("1700000000.007");
  });

  it("writes instants before 1970 in the -seconds.fraction form ClickHouse reads", () => {
    expect(coerce("DateTime64(3)", "1969-12-31T23:59:58.750Z")).toBe("-1.250");
    expect(coerce("DateTime64(3)", "1900-01-01T00:00:00Z")).toBe("-2208988800.000");
    expect(coerce("DateTime64(2)", -1.25)).toBe("-1.25");
    expect(coerce("DateTime64(2)", "-1.5")).toBe("-1.50");
  });

  it("rejects instants outside 1900..2299 (2262 for precision 9)", () => {
    expect(rejection("DateTime64(3)", "1899-12-31T23:59:59Z").reason).toBe("out of range 1900-01-01 00:00:00..2299-12-31 23:59:59");
    expect(rejection("DateTime64(9)", "2263-01-01T00:00:00Z").reason).toBe("out of range 1900-01-01 00:00:00..2262-04-11 23:47:16");
    expect(rejection("DateTime64(3)", 1_700_000_000_000).reason).toContain("out of range");
    expect(rejection("DateTime64(3)", "2023-11-14T22:13:20.Z").reason).toBe("no digits after the decimal point");
  });
});

describe("Enum, UUID, IPv4, IPv6", () => {
  it("accepts enum names and values of its members only", () => {
    expect(coerce("Enum8('a' = 1, 'b' = 2)", "b")).toBe("b");
    expect(coerce("Enum16('a' = 1000)", 1000)).toBe(1000);
    expect(rejection("Enum8('a' = 1, 'b' = 2)", "c").message).toBe("expected Enum8('a' = 1, 'b' = 2), got \"c\" (not one of 'a', 'b')");
    expect(rejection("Enum8('a' = 1, 'b' = 2)", 3).reason).toBe("not one of 'a', 'b' (nor their values)");
  });

  it("writes UUIDs in lower case with dashes", () => {
    expect(coerce("UUID", "123E4567-E89B-12D3-A456-426614174000")).toBe("123e4567-e89b-12d3-a456-426614174000");
    expect(coerce("UUID", "123e4567e89b12d3a456426614174000")).toBe("123e4567-e89b-12d3-a456-426614174000");
    expect(rejection("UUID", "123e4567-e89b-12d3-a456-42661417400g").reason).toBe("not a UUID (8-4-4-4-12 hex digits)");
    expect(rejection("UUID", 5).expected).toBe("UUID");
  });

  it("validates IP addresses", () => {
    expect(coerce("IPv4", "192.168.0.1")).toBe("192.168.0.1");
    expect(coerce("IPv4", 3_232_235_521)).toBe("192.168.0.1");
    expect(rejection("IPv4", "256.1.1.1").reason).toBe("not an IPv4 address");
    expect(rejection("IPv4", "1.2.3").reason).toBe("not an IPv4 address");
    expect(rejection("IPv4", "01.2.3.4").reason).toBe("not an IPv4 address");
    expect(rejection("IPv4", "1.2.3.4.").reason).toBe("not an IPv4 address");
    expect(coerce("IPv6", "2001:DB8::1")).toBe("2001:db8::1");
    expect(coerce("IPv6", "10.0.0.1")).toBe("::ffff:10.0.0.1");
    expect(rejection("IPv6", "2001:db8::g").reason).toBe("not an IPv6 address");
    expect(rejection("IPv6", "fe80::1%eth0").reason).toBe("not an IPv6 address");
  });
});

describe("Nullable and missing values", () => {
  it("writes null for Nullable columns and leaves other columns to their DEFAULT", () => {
    expect(coerce("Nullable(Int32)", null)).toBeNull();
    expect(coerce("Nullable(Int32)", undefined)).toBeNull();
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
