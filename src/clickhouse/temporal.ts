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

/** Value of `count` ASCII digits at `at`, or -1 if any is missing or not a digit. */
function digitsAt(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i += 1) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DASH = 45;
const COLON = 58;

/**
 * Where the last successful `scanInstant` left its result. Scans run synchronously and
 * the caller reads these right after, so sharing them costs no allocation per value.
 */
export const scanned = {
  /** Whole Unix seconds (floored). */
  seconds: 0,
  /** The fraction digits are `text.slice(fractionStart, fractionEnd)`. */
  fractionStart: 0,
  fractionEnd: 0,
  /** Why the last scan failed. */
  reason: "",
};

function failScan(reason: string): number {
  scanned.reason = reason;
  return NaN;
}

/** Day number of the `YYYY-MM-DD` that starts s; NaN (reason in `scanned.reason`) when it is not one. */
export function scanDate(s: string): number {
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  if (year < 0 || month < 0 || day < 0 || s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH) {
    return failScan("not an ISO 8601 date (YYYY-MM-DD)");
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return failScan("no such calendar date");
  return daysFromCivil(year, month, day);
}

/** Seconds into the day of `hh:mm[:ss[.f…]]` at 11, recording the fraction; NaN on error. */
function scanClock(s: string): number {
  const h = digitsAt(s, 11, 2);
  const m = digitsAt(s, 14, 2);
  if (h < 0 || m < 0 || s.charCodeAt(13) !== COLON) return failScan("not an ISO 8601 time (hh:mm:ss)");
  let end = 16;
  let sec = 0;
  if (s.charCodeAt(end) === COLON) {
    sec = digitsAt(s, end + 1, 2);
    if (sec < 0) return failScan("not an ISO 8601 time (hh:mm:ss)");
    end += 3;
  }
  const c = s.charCodeAt(end);
  if (c === 46 || c === 44) {
    end += 1;
    scanned.fractionStart = end;
    while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end += 1;
    if (end === scanned.fractionStart) return failScan("no digits after the decimal point");
  } else {
    scanned.fractionStart = end;
  }
  scanned.fractionEnd = end;
  if (h > 23 || m > 59 || sec > 59) return failScan("time of day out of range");
  return h * 3600 + m * 60 + sec;
}

/** Offsets by length of text after the sign: ±hh, ±hhmm, ±hh:mm (where the minutes start). */
const offsetMinutesAt: readonly number[] = [NaN, NaN, -1, NaN, 2, 3];

/** Seconds of an hh:mm offset, or -1 when a part is missing or out of range. */
function offsetSeconds(h: number, m: number): number {
  return h >= 0 && h <= 23 && m >= 0 && m <= 59 ? h * 3600 + m * 60 : -1;
}

/** Seconds east of UTC of the zone designator from `at` to the end: Z, ±hh, ±hhmm, ±hh:mm, or none (UTC). */
function scanOffset(s: string, at: number): number {
  const c = s.charCodeAt(at);
  if (at === s.length || ((c === 90 || c === 122) && at + 1 === s.length)) return 0;
  if (c !== 43 && c !== DASH) return failScan("unexpected text after the time");
  const minutesAt = offsetMinutesAt[s.length - at - 1] ?? NaN;
  if (Number.isNaN(minutesAt) || (minutesAt === 3 && s.charCodeAt(at + 3) !== COLON)) return failScan("invalid UTC offset");
  const seconds = offsetSeconds(digitsAt(s, at + 1, 2), minutesAt < 0 ? 0 : digitsAt(s, at + 1 + minutesAt, 2));
  if (seconds < 0) return failScan("invalid UTC offset");
  return c === DASH ? -seconds : seconds;
}

/**
 * Reads `YYYY-MM-DD`, or `YYYY-MM-DD[T ]hh:mm[:ss[.f…]][Z|±hh[:mm]]` where no offset means
 * UTC (ClickPipes takes ISO 8601 input as UTC), into `scanned`. False (reason in
 * `scanned.reason`) when the text is not such a date/time.
 */
export function scanInstant(s: string): boolean {
  const days = scanDate(s);
  if (Number.isNaN(days)) return false;
  if (s.length === 10) {
    scanned.seconds = days * SECONDS_PER_DAY;
    scanned.fractionStart = scanned.fractionEnd = 0;
    return true;
  }
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 32 && sep !== 116) {
    scanned.reason = "expected 'T' or ' ' between date and time";
    return false;
  }
  const clock = scanClock(s);
  const offset = Number.isNaN(clock) ? NaN : scanOffset(s, scanned.fractionEnd);
  if (Number.isNaN(offset)) return false;
  scanned.seconds = days * SECONDS_PER_DAY + clock - offset;
  return true;
}
