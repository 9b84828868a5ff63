import { describe, expect, it } from "vitest";
import { columnMapping, convertValue, ValueDoesNotFit } from "./types.js";

const map = (name: string, nullable = false, element?: string, isEnum = false): ReturnType<typeof columnMapping> => columnMapping({ name, element, isEnum }, nullable);
const conv = (name: string, text: string | null, element?: string): unknown => convertValue(map(name, true, element), text);

describe("Postgres → ClickHouse types", () => {
  it.each([
    ["boolean", "Bool"],
    ["smallint", "Int16"],
    ["integer", "Int32"],
    ["bigint", "Int64"],
    ["real", "Float32"],
    ["double precision", "Float64"],
    ["numeric(12,2)", "Decimal(12, 2)"],
    ["numeric", "Decimal(76, 38)"],
    ["numeric(100,2)", "String"],
    ["uuid", "UUID"],
    ["date", "Date32"],
    ["timestamp(3) without time zone", "DateTime64(6)"],
    ["timestamp with time zone", "DateTime64(6, 'UTC')"],
    ["jsonb", "String"],
    ["bytea", "String"],
    ["inet", "String"],
    ["interval", "String"],
    ["character varying(20)", "String"],
  ])("%s → %s", (pg, ch) => {
    expect(map(pg).clickhouseType).toBe(ch);
    expect(map(pg, true).clickhouseType).toBe(`Nullable(${ch})`);
  });

  it("maps arrays and enums", () => {
    expect(map("integer[]", true, "integer").clickhouseType).toBe("Array(Nullable(Int32))");
    expect(map("mood", false, undefined, true).clickhouseType).toBe("String");
  });

  it("converts values exactly", () => {
    expect(conv("boolean", "t")).toBe(true);
    expect(conv("integer", "-5")).toBe(-5);
    expect(conv("bigint", "9223372036854775807")).toBe("9223372036854775807");
    expect(conv("numeric(12,2)", "1234567890.12")).toBe("1234567890.12");
    expect(conv("double precision", "NaN")).toBe("nan");
    expect(conv("timestamp with time zone", "2024-02-29 23:59:59.123456+00")).toBe("2024-02-29 23:59:59.123456");
    expect(conv("bytea", "\\x0aff")).toBe("0aff");
    expect(conv("integer[]", "{1,NULL,3}", "integer")).toEqual([1, null, 3]);
    expect(conv("text[]", '{"a b",NULL,"c\\"d"}', "text")).toEqual(["a b", null, 'c"d']);
    expect(conv("integer[]", null, "integer")).toEqual([]);
    expect(conv("text", null)).toBeNull();
  });

  it.each([
    ["numeric(12,2)", "1.234"],
    ["numeric(4,2)", "123.4"],
    ["numeric", "NaN"],
    ["date", "1899-12-31"],
    ["date", "infinity"],
    ["timestamp without time zone", "2300-01-01 00:00:00"],
    ["timestamp with time zone", "0099-01-01 00:00:00+00 BC"],
  ])("a %s value %s that does not fit is refused, not truncated", (pg, text) => {
    expect(() => conv(pg, text)).toThrow(ValueDoesNotFit);
  });

  it("refuses multi-dimensional arrays", () => {
    expect(() => conv("integer[]", "{{1,2},{3,4}}", "integer")).toThrow(ValueDoesNotFit);
  });
});
