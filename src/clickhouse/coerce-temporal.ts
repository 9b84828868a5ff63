/**
 * Coercers for Date, Date32, DateTime and DateTime64. Input: ISO 8601 text (an offset or
 * Z, or none meaning UTC), Unix seconds as a number or digit string, or a JS Date.
 *
 * DateTime and DateTime64 are written as Unix seconds (`1700000000`, `"1700000000.123"`),
 * which a server reads the same under date_time_input_format=basic whatever the column's
 * or the server's time zone; a `YYYY-MM-DD hh:mm:ss` text would be read in that time zone.
 */
import { fail } from "./coercion-error.js";
import type { Coercer } from "./coerce-scalars.js";
import { splitDecimal } from "./numeric.js";
import { formatDays, formatUtcSeconds, scanDate, scanInstant, scanned, SECONDS_PER_DAY } from "./temporal.js";
import { formatType, type ChType } from "./type-parser.js";

type Of<K extends ChType["kind"]> = Extract<ChType, { kind: K }>;

/** An instant: whole Unix seconds (floored) plus the fraction digits as written. */
interface Instant {
  readonly seconds: number;
  readonly fraction: string;
}

const DATE_MAX_DAYS = 65_535; // 2149-06-06
const DATE32_MIN_DAYS = -25_567; // 1900-01-01
const DATE32_MAX_DAYS = 120_529; // 2299-12-31
const DATETIME_MAX = 4_294_967_295; // 2106-02-07 06:28:15
const DATETIME64_MIN = DATE32_MIN_DAYS * SECONDS_PER_DAY;
const DATETIME64_MAX = (DATE32_MAX_DAYS + 1) * SECONDS_PER_DAY - 1;
/** DateTime64(9) is an Int64 of nanoseconds: it ends at 2262-04-11 23:47:16. */
const DATETIME64_9_MAX = 9_223_372_036;

/** An instant from a number or a digit string: Unix seconds, exact digits kept. */
function instantFromNumberText(text: string): Instant | undefined {
  const parts = splitDecimal(text);
  if (parts === undefined) return undefined;
  // Past 2^53 the value is only compared with the range, which it fails.
  const whole = Number(parts.int === "" ? "0" : parts.int);
  const hasFraction = parts.frac.length > 0 && !/^0*$/.test(parts.frac);
  if (!parts.negative) return { seconds: whole, fraction: parts.frac };
  // -1.25 s is 1.75 s after -3 s: keep `seconds` floored and the fraction positive.
  if (!hasFraction) return { seconds: -whole, fraction: "" };
  const digits = parts.frac.length;
  const complement = String(10 ** digits - Number(parts.frac)).padStart(digits, "0");
  return { seconds: -whole - 1, fraction: complement };
}

function fromDate(d: Date): Instant | string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) return "an invalid Date";
  const seconds = Math.floor(ms / 1000);
  return { seconds, fraction: String(ms - seconds * 1000).padStart(3, "0") };
}

/** Reads any accepted input into an instant, or a reason it is not one. */
function toInstant(v: unknown): Instant | string {
  if (typeof v === "string") {
    // Digits (and sign/point) only: Unix seconds; anything with a '-' after the first char is a date.
    const numeric = v.length > 0 && v.length <= 24 && v.indexOf("-", 1) < 0 && v.indexOf(":") < 0 ? instantFromNumberText(v) : undefined;
    if (numeric !== undefined) return numeric;
    if (!scanInstant(v)) return scanned.reason;
    const { fractionStart, fractionEnd } = scanned;
    return { seconds: scanned.seconds, fraction: fractionEnd > fractionStart ? v.slice(fractionStart, fractionEnd) : "" };
  }
  if (typeof v === "number") return instantFromNumberText(String(v)) ?? "not a finite number of seconds";
  if (v instanceof Date) return fromDate(v);
  return "not an ISO 8601 date/time or Unix seconds";
}

function rangeReason(minText: string, maxText: string): string {
  return `out of range ${minText}..${maxText}`;
}

function dateCoercer(expected: string, minDays: number, maxDays: number): Coercer {
  const outOfRange = rangeReason(formatDays(minDays), formatDays(maxDays));
  const check = (v: unknown, days: number): string => (days >= minDays && days <= maxDays ? formatDays(days) : fail(expected, v, outOfRange));
  return (v) => {
    if (typeof v === "string" && v.length === 10) {
      const days = scanDate(v);
      if (Number.isNaN(days)) return fail(expected, v, scanned.reason);
      return days >= minDays && days <= maxDays ? v : fail(expected, v, outOfRange);
    }
    // As ClickHouse's toDate: small integers are day numbers, larger ones Unix seconds.
    if (typeof v === "number" && Number.isInteger(v) && v >= minDays && v <= maxDays) return formatDays(v);
    const instant = toInstant(v);
    if (typeof instant === "string") return fail(expected, v, instant);
    return check(v, Math.floor(instant.seconds / SECONDS_PER_DAY));
  };
}

export function dateTypeCoercer(type: Of<"date"> | Of<"date32">): Coercer {
  return type.kind === "date" ? dateCoercer("Date", 0, DATE_MAX_DAYS) : dateCoercer("Date32", DATE32_MIN_DAYS, DATE32_MAX_DAYS);
}

export function dateTimeCoercer(type: Of<"dateTime">): Coercer {
  const expected = formatType(type);
  const outOfRange = rangeReason(formatUtcSeconds(0), formatUtcSeconds(DATETIME_MAX));
  return (v) => {
    if (typeof v === "number" && Number.isInteger(v)) return v >= 0 && v <= DATETIME_MAX ? v : fail(expected, v, outOfRange);
    const instant = toInstant(v);
    if (typeof instant === "string") return fail(expected, v, instant);
    const s = instant.seconds;
    return s >= 0 && s <= DATETIME_MAX ? s : fail(expected, v, outOfRange);
  };
}

export function dateTime64Coercer(type: Of<"dateTime64">): Coercer {
  const expected = formatType(type);
  const p = type.precision;
  const max = p === 9 ? DATETIME64_9_MAX : DATETIME64_MAX;
  const outOfRange = rangeReason(formatUtcSeconds(DATETIME64_MIN), formatUtcSeconds(max));
  const zeros = "0".repeat(p);
  const scale = 10 ** p;
  return (v) => {
    const instant = toInstant(v);
    if (typeof instant === "string") return fail(expected, v, instant);
    const { seconds } = instant;
    if (seconds < DATETIME64_MIN || seconds > max) return fail(expected, v, outOfRange);
    if (p === 0) return String(seconds);
    // Fraction digits past the precision are cut, as ClickHouse does.
    const f = instant.fraction.length === p ? instant.fraction : (instant.fraction + zeros).slice(0, p);
    if (seconds >= 0) return `${seconds}.${f}`;
    // ClickHouse reads "-a.b" as -(a.b): convert floor-seconds + positive fraction to that form.
    const fn = Number(f);
    if (fn === 0) return `${seconds}.${f}`;
    return `-${-seconds - 1}.${String(scale - fn).padStart(p, "0")}`;
  };
}
