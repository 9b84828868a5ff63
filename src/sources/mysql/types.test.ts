import { describe, expect, it } from "vitest";
import { type MysqlColumn, clickhouseType, isZeroDate, toClickHouseValue } from "./types.js";

const col = (dataType: string, columnType = dataType, extra: Partial<MysqlColumn> = {}): MysqlColumn => ({ name: "c", dataType, columnType, nullable: false, ...extra });

describe("clickhouseType", () => {
  it("maps integers by size and sign, decimals by precision and scale", () => {
    expect(clickhouseType(col("tinyint"))?.type).toBe("Int8");
    expect(clickhouseType(col("int", "int(10) unsigned"))?.type).toBe("UInt32");
    expect(clickhouseType(col("mediumint", "mediumint unsigned"))?.type).toBe("UInt32");
    expect(clickhouseType(col("bigint", "bigint(20) unsigned"))?.type).toBe("UInt64");
    expect(clickhouseType(col("decimal", "decimal(30,10)", { precision: 30, scale: 10 }))?.type).toBe("Decimal(30, 10)");
  });

  it("makes temporal columns Nullable always (zero dates become NULL) and others when the source is", () => {
    expect(clickhouseType(col("datetime", "datetime(6)", { fsp: 6 }))?.type).toBe("Nullable(DateTime64(6))");
    expect(clickhouseType(col("timestamp", "timestamp(3)", { fsp: 3 }))?.type).toBe("Nullable(DateTime64(3, 'UTC'))");
    expect(clickhouseType(col("date"))?.type).toBe("Nullable(Date32)");
    expect(clickhouseType(col("varchar", "varchar(3)", { nullable: true }))?.type).toBe("Nullable(String)");
    expect(clickhouseType(col("blob"))).toEqual({ type: "String", kind: "bytes" });
    expect(clickhouseType(col("uuid"))).toEqual({ type: "UUID", kind: "uuid" });
    expect(clickhouseType(col("geometryx"))).toBeUndefined();
  });
});

describe("toClickHouseValue", () => {
  it("turns zero dates into NULL and keeps real ones as text", () => {
    expect(isZeroDate("0000-00-00")).toBe(true);
    expect(isZeroDate("2024-00-10 00:00:00")).toBe(true);
    expect(toClickHouseValue("datetime", "0000-00-00 00:00:00")).toBeNull();
    expect(toClickHouseValue("datetime", "2024-01-02 03:04:05.123456")).toBe("2024-01-02 03:04:05.123456");
  });

  it("carries bytes as base64, BIT as its number, addresses as text", () => {
    expect(toClickHouseValue("bytes", Buffer.from([0, 255, 16]))).toBe("AP8Q");
    expect(toClickHouseValue("bit", Buffer.from([2, 170]))).toBe(682);
    expect(toClickHouseValue("bit", Buffer.alloc(8, 255))).toBe("18446744073709551615");
    expect(toClickHouseValue("uuid", Buffer.from("123e4567e89b12d3a456426614174000", "hex"))).toBe("123e4567-e89b-12d3-a456-426614174000");
    expect(toClickHouseValue("inet4", Buffer.from([10, 1, 2, 3]))).toBe("10.1.2.3");
    expect(toClickHouseValue("inet6", Buffer.from("20010db8000000000000000000000001", "hex"))).toBe("2001:0db8:0000:0000:0000:0000:0000:0001");
    expect(toClickHouseValue("json", { a: 1 })).toBe('{"a":1}');
    expect(toClickHouseValue("plain", "x")).toBe("x");
    expect(toClickHouseValue("plain", null)).toBeNull();
  });
});
