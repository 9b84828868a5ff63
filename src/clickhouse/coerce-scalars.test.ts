import { describe, expect, it } from "vitest";
import { coerce, rejection } from "../../test/helpers/coerce.js";


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
    expect(coerce("Float64", NaN)).toBe("nan");
    expect(coerce("Float32", -Infinity)).toBe("-inf");
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
    expect(coerce("String", Buffer.from("key-1"))).toBe("key-1");
    expect(coerce("String", new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).toBe("2024-01-02T03:04:05.006Z");
  });

  it("checks FixedString length in UTF-8 bytes", () => {
    expect(coerce("FixedString(4)", "abcd")).toBe("abcd");
    expect(coerce("FixedString(4)", "é")).toBe("é");
    expect(rejection("FixedString(4)", "ééé").reason).toBe("longer than 4 bytes");
    expect(rejection("FixedString(2)", "abc").message).toBe('expected FixedString(2), got "abc" (longer than 2 bytes)');
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
