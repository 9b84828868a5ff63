import { describe, expect, it } from "vitest";
import { daysFromCivil, formatDays, formatUtcSeconds, scanDate, scanInstant, scanned } from "./temporal.js";

describe("calendar arithmetic", () => {
  it("round-trips day numbers across the whole supported range", () => {
    for (let days = -25_567; days <= 120_529; days += 97) {
      const [y, m, d] = formatDays(days).split("-").map(Number) as [number, number, number];
      expect(daysFromCivil(y, m, d)).toBe(days);
    }
    expect(formatDays(0)).toBe("1970-01-01");
    expect(formatDays(-25_567)).toBe("1900-01-01");
    expect(formatDays(11_016)).toBe("2000-02-29");
    expect(formatUtcSeconds(1_700_000_000)).toBe("2023-11-14 22:13:20");
    expect(formatUtcSeconds(-1)).toBe("1969-12-31 23:59:59");
  });
});

describe("scanDate", () => {
  it("knows leap years", () => {
    expect(scanDate("2000-02-29")).toBe(11_016);
    expect(scanDate("1900-02-29")).toBeNaN();
    expect(scanned.reason).toBe("no such calendar date");
    expect(scanDate("2024-1-01")).toBeNaN();
    expect(scanned.reason).toBe("not an ISO 8601 date (YYYY-MM-DD)");
  });
});

describe("scanInstant", () => {
  it.each([
    ["2023-11-14", 1_699_920_000, ""],
    ["2023-11-14T22:13:20Z", 1_700_000_000, ""],
    ["2023-11-14t22:13:20z", 1_700_000_000, ""],
    ["2023-11-14 22:13", 1_699_999_980, ""],
    ["2023-11-14T22:13:20.5", 1_700_000_000, "5"],
    ["2023-11-14T22:13:20,250+00:00", 1_700_000_000, "250"],
    ["2023-11-15T03:43:20+0530", 1_700_000_000, ""],
    ["2023-11-14T12:13:20-10", 1_700_000_000, ""],
  ])("reads %s", (text, seconds, fraction) => {
    expect(scanInstant(text)).toBe(true);
    expect(scanned.seconds).toBe(seconds);
    expect(text.slice(scanned.fractionStart, scanned.fractionEnd)).toBe(fraction);
  });

  it.each([
    ["2023-11-14T22:13:20+5:30", "invalid UTC offset"],
    ["2023-11-14T22:13:20+05:3", "invalid UTC offset"],
    ["2023-11-14T22:60", "time of day out of range"],
    ["2023-11-14T22", "not an ISO 8601 time (hh:mm:ss)"],
    ["2023-11-14T22:13:2", "not an ISO 8601 time (hh:mm:ss)"],
    ["2023-11-14T22:13:20Zjunk", "unexpected text after the time"],
  ])("refuses %s", (text, reason) => {
    expect(scanInstant(text)).toBe(false);
    expect(scanned.reason).toBe(reason);
  });
});
