import avro from "avsc";

/**
 * How Avro values become the decoded record the mapper coerces: logical types to the text
 * ClickHouse reads exactly (ISO dates and times, exact decimals), longs beyond 2^53 to
 * decimal text (a JS number would round them), bytes/fixed to text.
 */

/** avsc's reading cursor over a buffer (its internal Tap), as far as the readers below use it. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
}

let isoSecond = Number.NaN;
let isoPrefix = "";

/**
 * `YYYY-MM-DDThh:mm:ss.` of a Unix second. A stream's timestamps come mostly within the same
 * second, so the text of the last one is kept: formatting a Date per value measured at a
 * third of the decode time of a record with one timestamp.
 */
function isoSecondPrefix(seconds: number): string {
  if (seconds !== isoSecond) {
    const iso = new Date(seconds * 1000).toISOString();
    isoPrefix = iso.slice(0, iso.length - 4);
    isoSecond = seconds;
  }
  return isoPrefix;
}

/** Milliseconds since the epoch → ISO 8601 text, which the DateTime64 coercer reads exactly. */
export function isoMillis(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const fraction = ms - seconds * 1000;
  return `${isoSecondPrefix(seconds)}${fraction < 10 ? "00" : fraction < 100 ? "0" : ""}${fraction}Z`;
}

/** Microseconds since the epoch → ISO 8601 text with six fraction digits. */
export function isoMicros(micros: number): string {
  const seconds = Math.floor(micros / 1e6);
  return `${isoSecondPrefix(seconds)}${String(micros - seconds * 1e6).padStart(6, "0")}Z`;
}

/**
 * Avro timestamps become ISO 8601 text. `_read` (what avsc's compiled record readers call)
 * reads the long itself rather than through the underlying type and `_fromValue`.
 */
class TimestampMillis extends avro.types.LogicalType {
  _read(tap: Tap): string {
    return isoMillis(tap.readLong());
  }
  protected override _fromValue(val: unknown): unknown {
    return isoMillis(Number(val));
  }
  protected override _toValue(val: unknown): unknown {
    return Date.parse(String(val));
  }
}

class TimestampMicros extends avro.types.LogicalType {
  _read(tap: Tap): string {
    return isoMicros(tap.readLong());
  }
  protected override _fromValue(val: unknown): unknown {
    return isoMicros(Number(val));
  }
  protected override _toValue(val: unknown): unknown {
    return Date.parse(String(val)) * 1000;
  }
}

class DateDays extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): unknown {
    return new Date(Number(val) * 86_400_000).toISOString().slice(0, 10);
  }
  protected override _toValue(val: unknown): unknown {
    return Date.parse(String(val)) / 86_400_000;
  }
}

/** Two's complement big-endian bytes and a scale → exact decimal text. */
export function decimalText(bytes: Uint8Array, scale: number): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (bytes.length > 0 && (bytes[0] as number) & 0x80) n -= 1n << BigInt(bytes.length * 8);
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** Avro decimal (bytes or fixed) → exact decimal text. */
class DecimalBytes extends avro.types.LogicalType {
  private readonly scale: number;
  constructor(schema: avro.Schema, opts?: object) {
    super(schema, opts);
    this.scale = (schema as { scale?: number }).scale ?? 0;
  }
  protected override _fromValue(val: unknown): unknown {
    return decimalText(val as Buffer, this.scale);
  }
  protected override _toValue(val: unknown): unknown {
    return val;
  }
}

export const logicalTypes = {
  "timestamp-millis": TimestampMillis,
  "timestamp-micros": TimestampMicros,
  date: DateDays,
  decimal: DecimalBytes,
};

/** Zigzag varint → exact decimal text, for longs beyond 2^53. */
function readBigLong(tap: Tap): string {
  let n = 0n;
  let shift = 0n;
  let b: number;
  do {
    b = tap.buf[tap.pos++] as number;
    n |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  return ((n >> 1n) ^ -(n & 1n)).toString();
}

/**
 * Avro long: a number while exact, else its decimal text (the Int64 coercer reads both).
 * avsc's own long refuses values beyond 2^53 ("potential precision loss") and its
 * `LongType.__with` unpacks every long into a fresh 8-byte buffer, which measured at less
 * than half the decode rate; so the default type's reader is kept and only the rare unsafe
 * value is read again exactly. `_read` is what avsc's compiled record readers call.
 */
class ExactLong extends avro.types.LongType {
  _read(tap: Tap): number | string {
    const start = tap.pos;
    const n = tap.readLong();
    if (Number.isSafeInteger(n)) return n;
    tap.pos = start;
    return readBigLong(tap);
  }
}
const exactLong = new (ExactLong as unknown as new () => avro.Type)();

/**
 * Compile a schema (an object or its JSON text) with the product's logical types. The
 * schemas it references (Confluent schema references, each after its own) are parsed first
 * into the same registry of named types, so the schema can name their types.
 */
export function compileAvro(schema: unknown, dependencies: readonly string[] = []): avro.Type {
  const opts = { logicalTypes, wrapUnions: "auto" as const, registry: { long: exactLong } as Record<string, avro.Type> };
  for (const dependency of dependencies) avro.Type.forSchema(JSON.parse(dependency) as avro.Schema, opts);
  const parsed: unknown = typeof schema === "string" ? JSON.parse(schema) : schema;
  return avro.Type.forSchema(parsed as avro.Schema, opts);
}

/**
 * Whether decoded values of this type can hold Buffers: bytes or fixed that no logical type
 * turns into text. Only then is a decoded record copied to turn them into text, so a schema
 * whose only bytes are decimals is read without a copy.
 */
export function typeHasBytes(type: avro.Type, seen = new Set<avro.Type>()): boolean {
  if (seen.has(type)) return false; // a recursive named type: its fields are being looked at
  seen.add(type);
  if (type.typeName === "bytes" || type.typeName === "fixed") return true;
  if (type instanceof avro.types.RecordType) return type.fields.some((f) => typeHasBytes(f.type, seen));
  if (type instanceof avro.types.ArrayType) return typeHasBytes(type.itemsType, seen);
  if (type instanceof avro.types.MapType) return typeHasBytes(type.valuesType as avro.Type, seen); // avsc types it `any`
  if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType) return type.types.some((t) => typeHasBytes(t, seen));
  return false;
}

/** Avro bytes/fixed arrive as Buffers; JSON carries text, so they become UTF-8 strings. */
export function withoutBuffers(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (Array.isArray(value)) return value.map(withoutBuffers);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withoutBuffers(v);
    return out;
  }
  return value;
}
