/**
 * Coercers for scalar ClickHouse types. Each takes a decoded JSON value that is neither
 * null nor undefined and returns what to write into a JSONEachRow line for a ClickHouse
 * server with default settings, or throws CoercionError.
 */
import { isIPv6 } from "node:net";
import { fail } from "./coercion-error.js";
import { intBounds, integerTextInRange, normaliseIntegerText, splitDecimal } from "./numeric.js";
import { formatType, type ChType } from "./type-parser.js";

export type Coercer = (value: unknown) => unknown;

type Of<K extends ChType["kind"]> = Extract<ChType, { kind: K }>;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Int8..Int32, UInt8..UInt32: JSON numbers, or integer strings. */
function smallInt(expected: string, min: number, max: number): Coercer {
  const range = `out of range ${min}..${max}`;
  const check = (v: unknown, n: number): number => {
    if (n >= min && n <= max) return n;
    return fail(expected, v, range);
  };
  return (v) => {
    if (typeof v === "number") {
      if (Number.isInteger(v) && v >= min && v <= max) return v;
      return fail(expected, v, Number.isInteger(v) ? range : "not an integer");
    }
    if (typeof v === "string") {
      const text = normaliseIntegerText(v);
      return text === undefined ? fail(expected, v, "not an integer") : check(v, Number(text));
    }
    if (typeof v === "bigint") return check(v, Number(v));
    return fail(expected, v, "not an integer");
  };
}

/**
 * 64-bit and wider integers are emitted as JSON strings: JS numbers lose precision past
 * 2^53, and ClickHouse reads quoted integers exactly.
 */
function bigInt(expected: string, signed: boolean, bits: number): Coercer {
  const bounds = intBounds(signed, bits);
  const range = `out of range ${bounds.min}..${bounds.max}`;
  const checkText = (v: unknown, text: string | undefined): string => {
    if (text === undefined) return fail(expected, v, "not an integer");
    return integerTextInRange(text, bounds) ? text : fail(expected, v, range);
  };
  // Every safe integer fits a signed 64-bit or wider type, and every non-negative one an unsigned.
  const minSafe = signed ? Number.MIN_SAFE_INTEGER : 0;
  return (v) => {
    if (typeof v === "number") {
      if (Number.isSafeInteger(v)) return v >= minSafe ? String(v) : fail(expected, v, range);
      if (Number.isInteger(v)) return fail(expected, v, "beyond 2^53 a JSON number has already lost precision; send it as a string");
      return fail(expected, v, "not an integer");
    }
    if (typeof v === "string") return checkText(v, normaliseIntegerText(v));
    if (typeof v === "bigint") return checkText(v, v.toString());
    return fail(expected, v, "not an integer");
  };
}

export function intCoercer(type: Of<"int">): Coercer {
  const expected = formatType(type);
  if (type.bits > 32) return bigInt(expected, type.signed, type.bits);
  const { min, max } = intBounds(type.signed, type.bits);
  return smallInt(expected, Number(min), Number(max));
}

const FLOAT32_MAX = 3.4028234663852886e38;
const specialFloats: ReadonlyMap<string, string> = new Map([
  ["nan", "nan"],
  ["+nan", "nan"],
  ["-nan", "nan"],
  ["inf", "inf"],
  ["+inf", "inf"],
  ["infinity", "inf"],
  ["+infinity", "inf"],
  ["-inf", "-inf"],
  ["-infinity", "-inf"],
]);

/** Float32/Float64/BFloat16: numbers, numeric strings, and nan/inf spelled as ClickHouse reads them. */
export function floatCoercer(type: Of<"float"> | Of<"bfloat16">): Coercer {
  const expected = formatType(type);
  const max = type.kind === "float" && type.bits === 64 ? Number.MAX_VALUE : FLOAT32_MAX;
  const check = (v: unknown, n: number): number => (n >= -max && n <= max ? n : fail(expected, v, `out of range ±${max}`));
  return (v) => {
    if (typeof v === "number") {
      if (v >= -max && v <= max) return v;
      // JSON has no NaN or Infinity, but other decoders (Avro) do; JSON.stringify would write null.
      if (Number.isNaN(v)) return "nan";
      if (v === Infinity || v === -Infinity) return v > 0 ? "inf" : "-inf";
      return check(v, v);
    }
    if (typeof v === "string") {
      const special = specialFloats.get(v.toLowerCase());
      if (special !== undefined) return special;
      return splitDecimal(v) === undefined ? fail(expected, v, "not a number") : check(v, Number(v));
    }
    if (typeof v === "bigint") return check(v, Number(v));
    return fail(expected, v, "not a number");
  };
}

/** Length of the run of ASCII digits from `at`. */
function digitRun(s: string, at: number): number {
  let i = at;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i += 1;
  return i - at;
}

/** Plain `[-]d+[.d+]` within the digit limits and without leading zeros: already what ClickHouse takes. */
function isPlainDecimal(s: string, intMax: number, scale: number): boolean {
  const start = s.charCodeAt(0) === 45 ? 1 : 0;
  const intLen = digitRun(s, start);
  if (intLen === 0 || intLen > intMax || (intLen > 1 && s.charCodeAt(start) === 48)) return false;
  const end = start + intLen;
  if (end === s.length) return true;
  if (s.charCodeAt(end) !== 46) return false;
  const fracLen = digitRun(s, end + 1);
  return fracLen > 0 && fracLen <= scale && end + 1 + fracLen === s.length;
}

/** Decimal: emitted as exact text; fraction digits past the scale are cut, as ClickHouse does. */
export function decimalCoercer(type: Of<"decimal">): Coercer {
  const expected = formatType(type);
  const intDigits = type.precision - type.scale;
  const tooBig = `more than ${intDigits} digit${intDigits === 1 ? "" : "s"} before the decimal point`;
  const fromText = (v: unknown, text: string): string => {
    if (isPlainDecimal(text, intDigits, type.scale)) return text;
    const parts = splitDecimal(text);
    if (parts === undefined) return fail(expected, v, "not a decimal number");
    if (parts.int.length > intDigits) return fail(expected, v, tooBig);
    const frac = parts.frac.length > type.scale ? parts.frac.slice(0, type.scale) : parts.frac;
    const body = (parts.int === "" ? "0" : parts.int) + (frac === "" ? "" : `.${frac}`);
    return parts.negative ? `-${body}` : body;
  };
  return (v) => {
    if (typeof v === "string") return fromText(v, v);
    if (typeof v === "number") {
      if (Math.abs(v) > Number.MAX_SAFE_INTEGER) return fail(expected, v, "beyond 2^53 a JSON number has already lost precision; send it as a string");
      return fromText(v, String(v));
    }
    if (typeof v === "bigint") return fromText(v, v.toString());
    return fail(expected, v, "not a decimal number");
  };
}

const boolTexts: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["false", false],
  ["1", true],
  ["0", false],
]);

export function boolCoercer(): Coercer {
  return (v) => {
    if (typeof v === "boolean") return v;
    if (v === 1 || v === 0) return v === 1;
    const b = typeof v === "string" ? boolTexts.get(v.toLowerCase()) : undefined;
    return b ?? fail("Bool", v, "not true/false, 1/0 or \"true\"/\"false\"");
  };
}

/**
 * Non-string values become their JSON text, as ClickPipes stores them in String columns;
 * bytes (a Kafka key) are read as UTF-8 and a Date as its ISO 8601 text.
 */
function asText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("utf8");
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

export function stringCoercer(): Coercer {
  return asText;
}

export function fixedStringCoercer(type: Of<"fixedString">): Coercer {
  const n = type.length;
  const expected = formatType(type);
  return (v) => {
    const s = asText(v);
    // UTF-16 length bounds the UTF-8 byte length (1..3 bytes per unit), so most values skip counting.
    if (s.length * 3 <= n) return s;
    const bytes = s.length > n ? n + 1 : Buffer.byteLength(s, "utf8");
    return bytes <= n ? s : fail(expected, v, `longer than ${n} byte${n === 1 ? "" : "s"}`);
  };
}

export function enumCoercer(type: Of<"enum">): Coercer {
  const expected = formatType(type);
  const names = new Set(type.members.map((m) => m.name));
  const values = new Set(type.members.map((m) => m.value));
  const allowed = type.members.map((m) => `'${m.name}'`).join(", ");
  const notMember = `not one of ${allowed.length > 200 ? `${allowed.slice(0, 200)}…` : allowed}`;
  return (v) => {
    if (typeof v === "string") return names.has(v) ? v : fail(expected, v, notMember);
    if (typeof v === "number") return values.has(v) ? v : fail(expected, v, `${notMember} (nor their values)`);
    return fail(expected, v, "not an enum name or value");
  };
}

const HYPHEN = 45;

/** Hex digit check that also records upper-case letters (which need lower-casing). */
function hexKind(c: number): number {
  if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) return 1;
  if (c >= 65 && c <= 70) return 2;
  return 0;
}

/** 8-4-4-4-12 hex digits, or 32 without dashes; lower-case with dashes, undefined if not a UUID. */
function canonicalUuid(s: string): string | undefined {
  const dashed = s.length === 36;
  if (!dashed && s.length !== 32) return undefined;
  let upper = false;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (dashed && (i === 8 || i === 13 || i === 18 || i === 23)) {
      if (c !== HYPHEN) return undefined;
      continue;
    }
    const kind = hexKind(c);
    if (kind === 0) return undefined;
    if (kind === 2) upper = true;
  }
  const l = upper ? s.toLowerCase() : s;
  return dashed ? l : `${l.slice(0, 8)}-${l.slice(8, 12)}-${l.slice(12, 16)}-${l.slice(16, 20)}-${l.slice(20)}`;
}

export function uuidCoercer(): Coercer {
  return (v) => {
    const u = typeof v === "string" ? canonicalUuid(v) : undefined;
    return u ?? fail("UUID", v, "not a UUID (8-4-4-4-12 hex digits)");
  };
}

/** Whether s is a dotted quad with each part 0..255 and no leading zeros. */
export function isIPv4Text(s: string): boolean {
  let parts = 0;
  let i = 0;
  while (i <= s.length) {
    let n = 0;
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) n = n * 10 + s.charCodeAt(i++) - 48;
    const len = i - start;
    if (len === 0 || len > 3 || n > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    parts += 1;
    if (i === s.length) return parts === 4;
    if (s[i] !== "." || parts === 4) return false;
    i += 1;
  }
  return false;
}

export function ipv4Coercer(): Coercer {
  return (v) => {
    if (typeof v === "string") return isIPv4Text(v) ? v : fail("IPv4", v, "not an IPv4 address");
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
      return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    }
    return fail("IPv4", v, "not an IPv4 address");
  };
}

/** IPv6 text, or IPv4 mapped into IPv6 as ClickHouse stores it. Zone ids (`%eth0`) are not addresses. */
export function ipv6Coercer(): Coercer {
  return (v) => {
    if (typeof v === "string") {
      if (isIPv4Text(v)) return `::ffff:${v}`;
      if (isIPv6(v) && !v.includes("%")) return v.toLowerCase();
    }
    return fail("IPv6", v, "not an IPv6 address");
  };
}

/** JSON columns take an object; a string holding a JSON object is parsed. */
export function jsonCoercer(): Coercer {
  return (v) => {
    if (isPlainObject(v)) return v;
    if (typeof v === "string") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch (e) {
        return fail("JSON", v, `not a JSON object: ${e instanceof Error ? e.message : "unparsable"}`);
      }
      if (isPlainObject(parsed)) return parsed;
    }
    return fail("JSON", v, "not a JSON object");
  };
}
