/**
 * Calendar arithmetic and an ISO 8601 scanner for the coercer, written with char codes
 * (no regex, no Date objects) because it runs per field per row.
 */

export const SECONDS_PER_DAY = 86_400;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** `YYYY-MM-DD` of a day number (H. Hinnant's civil_from_days). */
export function formatDays(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** `YYYY-MM-DD hh:mm:ss` in UTC of Unix seconds, for messages and tests. */
export function formatUtcSeconds(seconds: number): string {
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  const rest = seconds - days * SECONDS_PER_DAY;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  return `${formatDays(days)} ${pad(h, 2)}:${pad(m, 2)}:${pad(rest % 60, 2)}`;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : (monthDays[month - 1] as number);
}

/** Value of `count` ASCII digits at `at`, or -1 if any is not a digit. */
function digitsAt(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i += 1) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** An instant read from ISO 8601 text: whole Unix seconds plus the fraction digits as written. */
export interface Instant {
  readonly seconds: number;
  readonly fraction: string;
}

/** Result of scanning: the instant, or why the text is not an ISO 8601 date/time. */
export type ScanResult = Instant | string;

/** Day number of `YYYY-MM-DD` at the start of s, or a reason. */
export function scanDate(s: string): number | string {
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  if (s.length < 10 || year < 0 || month < 0 || day < 0 || s[4] !== "-" || s[7] !== "-") {
    return "not an ISO 8601 date (YYYY-MM-DD)";
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return "no such calendar date";
  return daysFromCivil(year, month, day);
}

interface Clock {
  readonly seconds: number;
  readonly fraction: string;
  readonly end: number;
}

/** `hh:mm[:ss[.fff]]` at `at`. */
function scanClock(s: string, at: number): Clock | string {
  const h = digitsAt(s, at, 2);
  const m = digitsAt(s, at + 3, 2);
  if (h < 0 || m < 0 || s[at + 2] !== ":") return "not an ISO 8601 time (hh:mm:ss)";
  let end = at + 5;
  let sec = 0;
  let fraction = "";
  if (s[end] === ":") {
    sec = digitsAt(s, end + 1, 2);
    if (sec < 0) return "not an ISO 8601 time (hh:mm:ss)";
    end += 3;
    if (s[end] === "." || s[end] === ",") {
      const start = end + 1;
      end = start;
      while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end += 1;
      if (end === start) return "no digits after the decimal point";
      fraction = s.slice(start, end);
    }
  }
  if (h > 23 || m > 59 || sec > 59) return "time of day out of range";
  return { seconds: h * 3600 + m * 60 + sec, fraction, end };
}

/** Offsets by length of text after the sign: ±hh, ±hhmm, ±hh:mm (where the minutes start). */
const offsetMinutesAt: ReadonlyMap<number, number> = new Map([
  [2, -1],
  [4, 2],
  [5, 3],
]);

/** Seconds of an hh:mm offset, or -1 when a part is missing or out of range. */
function offsetSeconds(h: number, m: number): number {
  return h >= 0 && h <= 23 && m >= 0 && m <= 59 ? h * 3600 + m * 60 : -1;
}

/** Seconds east of UTC of the zone designator from `at` to the end: Z, ±hh, ±hhmm, ±hh:mm, or none (UTC). */
function scanOffset(s: string, at: number): number | string {
  const c = s[at];
  if (at === s.length || ((c === "Z" || c === "z") && at + 1 === s.length)) return 0;
  if (c !== "+" && c !== "-") return "unexpected text after the time";
  const minutesAt = offsetMinutesAt.get(s.length - at - 1);
  if (minutesAt === undefined || (minutesAt === 3 && s[at + 3] !== ":")) return "invalid UTC offset";
  const seconds = offsetSeconds(digitsAt(s, at + 1, 2), minutesAt < 0 ? 0 : digitsAt(s, at + 1 + minutesAt, 2));
  if (seconds < 0) return "invalid UTC offset";
  return c === "-" ? -seconds : seconds;
}

/**
 * Reads `YYYY-MM-DD`, or `YYYY-MM-DD[T ]hh:mm[:ss[.f…]][Z|±hh[:mm]]` where no offset means
 * UTC (ClickPipes takes ISO 8601 input as UTC).
 */
export function scanIsoInstant(s: string): ScanResult {
  const days = scanDate(s);
  if (typeof days === "string") return days;
  if (s.length === 10) return { seconds: days * SECONDS_PER_DAY, fraction: "" };
  const sep = s[10];
  if (sep !== "T" && sep !== " " && sep !== "t") return "expected 'T' or ' ' between date and time";
  const clock = scanClock(s, 11);
  if (typeof clock === "string") return clock;
  const offset = scanOffset(s, clock.end);
  if (typeof offset === "string") return offset;
  return { seconds: days * SECONDS_PER_DAY + clock.seconds - offset, fraction: clock.fraction };
}
