/**
 * Durations and byte sizes as users write them in manifests ("5s", "20MiB"). The patterns are
 * shared by the zod schema and the CRD, so they stay within what both JavaScript and the
 * apiserver's RE2 engine accept (no lookarounds, no backreferences).
 */

/** One or more `<number><unit>` terms, like Go's time.ParseDuration: `500ms`, `5s`, `1m30s`, `2h`. */
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
/** A plain byte count or a number with a decimal (kB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB) unit. */
export const BYTE_SIZE_PATTERN = "^[0-9]+(\\.[0-9]+)?(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$";

export const DURATION_ACCEPTED = "a duration such as 500ms, 5s, 1m30s or 2h";
export const BYTE_SIZE_ACCEPTED = "a byte count or a size such as 512KiB, 20MiB, 1GB";

const DURATION_RE = new RegExp(DURATION_PATTERN);
const DURATION_TERM_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const BYTE_SIZE_RE = new RegExp(BYTE_SIZE_PATTERN);

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const BYTE_UNIT: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1_000,
  KB: 1_000,
  MB: 1_000_000,
  GB: 1_000_000_000,
  TB: 1_000_000_000_000,
  KiB: 1_024,
  MiB: 1_048_576,
  GiB: 1_073_741_824,
  TiB: 1_099_511_627_776,
};

/** Thrown for a duration or byte size that does not match its pattern. */
export class UnitParseError extends Error {
  constructor(
    readonly value: string,
    readonly accepted: string,
  ) {
    super(`${JSON.stringify(value)} is not ${accepted}`);
    this.name = "UnitParseError";
  }
}

/** Milliseconds in a duration string: `parseDuration("1m30s") === 90_000`. */
export function parseDuration(value: string): number {
  if (!DURATION_RE.test(value)) throw new UnitParseError(value, DURATION_ACCEPTED);
  let total = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_TERM_RE)) {
    total += Number(amount) * (DURATION_UNIT_MS[unit ?? "ms"] ?? 1);
  }
  return Math.round(total);
}

/** Bytes in a byte size: `parseByteSize("20MiB") === 20_971_520`; a number is already bytes. */
export function parseByteSize(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) throw new UnitParseError(String(value), BYTE_SIZE_ACCEPTED);
    return value;
  }
  const match = BYTE_SIZE_RE.exec(value);
  if (match === null) throw new UnitParseError(value, BYTE_SIZE_ACCEPTED);
  const unit = match[2] ?? "B";
  const amount = Number(value.slice(0, value.length - (match[2]?.length ?? 0)));
  return Math.round(amount * (BYTE_UNIT[unit] ?? 1));
}
