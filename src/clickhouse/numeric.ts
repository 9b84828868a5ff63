/**
 * Text-level number helpers for the coercer: exact integer and decimal handling without
 * going through lossy JS numbers or BigInt on the hot path.
 */

/** A decimal number split into sign, integer digits (no leading zeros, "" for 0) and fraction digits. */
export interface DecimalParts {
  readonly negative: boolean;
  readonly int: string;
  readonly frac: string;
}

/** Exponents beyond this cannot fit any ClickHouse Decimal (76 digits) or DateTime64. */
const MAX_EXPONENT = 100;

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

function scanDigits(s: string, start: number): number {
  let i = start;
  while (i < s.length && isDigitCode(s.charCodeAt(i))) i += 1;
  return i;
}

function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length && digits.charCodeAt(i) === 48) i += 1;
  return i === 0 ? digits : digits.slice(i);
}

function readExponent(s: string, start: number): number | undefined {
  let i = start;
  const sign = s[i] === "-" ? -1 : 1;
  if (s[i] === "-" || s[i] === "+") i += 1;
  const end = scanDigits(s, i);
  if (end === i || end !== s.length) return undefined;
  const exp = Number(s.slice(i, end));
  return exp > MAX_EXPONENT ? undefined : sign * exp;
}

function shiftPoint(int: string, frac: string, exp: number): { int: string; frac: string } {
  const digits = int + frac;
  const point = int.length + exp;
  if (point <= 0) return { int: "", frac: "0".repeat(-point) + digits };
  if (point >= digits.length) return { int: digits + "0".repeat(point - digits.length), frac: "" };
  return { int: digits.slice(0, point), frac: digits.slice(point) };
}

/**
 * Parses `[+-]digits[.digits][e[+-]digits]` (also `.5` and `5.`) exactly; undefined when
 * the text is not a plain decimal number.
 */
export function splitDecimal(s: string): DecimalParts | undefined {
  let i = 0;
  const first = s.charCodeAt(0);
  const negative = first === 45;
  if (negative || first === 43) i = 1;
  const intEnd = scanDigits(s, i);
  let int = s.slice(i, intEnd);
  let frac = "";
  i = intEnd;
  if (s.charCodeAt(i) === 46) {
    const fracEnd = scanDigits(s, i + 1);
    frac = s.slice(i + 1, fracEnd);
    i = fracEnd;
  }
  if (int === "" && frac === "") return undefined;
  if (i < s.length) {
    const c = s.charCodeAt(i);
    const exp = c === 101 || c === 69 ? readExponent(s, i + 1) : undefined;
    if (exp === undefined) return undefined;
    ({ int, frac } = shiftPoint(int, frac, exp));
  }
  return { negative, int: stripLeadingZeros(int), frac };
}

/**
 * Parses `[+-]digits` into a normalised integer text (no `+`, no leading zeros, no `-0`);
 * undefined when it is not an integer literal.
 */
export function normaliseIntegerText(s: string): string | undefined {
  const first = s.charCodeAt(0);
  const negative = first === 45;
  const start = negative || first === 43 ? 1 : 0;
  const end = scanDigits(s, start);
  if (end === start || end !== s.length) return undefined;
  const digits = stripLeadingZeros(s.slice(start));
  if (digits === "") return "0";
  return negative ? `-${digits}` : digits;
}

/** Compares two non-negative integer texts without leading zeros. */
function compareMagnitude(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Inclusive bounds of an integer type, as normalised texts. */
export interface IntBounds {
  readonly min: string;
  readonly max: string;
}

export function intBounds(signed: boolean, bits: number): IntBounds {
  if (!signed) return { min: "0", max: (2n ** BigInt(bits) - 1n).toString() };
  const half = 2n ** BigInt(bits - 1);
  return { min: (-half).toString(), max: (half - 1n).toString() };
}

/** Whether a normalised integer text lies within the bounds. */
export function integerTextInRange(text: string, bounds: IntBounds): boolean {
  if (text.charCodeAt(0) === 45) {
    if (bounds.min.charCodeAt(0) !== 45) return false;
    return compareMagnitude(text.slice(1), bounds.min.slice(1)) <= 0;
  }
  return compareMagnitude(text, bounds.max) <= 0;
}
