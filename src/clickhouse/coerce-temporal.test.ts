import { describe, expect, it } from "vitest";
import { coerce, rejection } from "../../test/helpers/coerce.js";


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
