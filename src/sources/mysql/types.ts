/**
 * MySQL / MariaDB column types → ClickHouse types, and a source value (as mysql2 and zongji
 * read it with VALUE_OPTIONS) → the JSON value the core's coercer takes for that type.
 * Pure; documented value by value in docs/sources/mysql.md and tested against the engine.
 */

/** A source column as information_schema.COLUMNS describes it. */
export interface MysqlColumn {
  readonly name: string;
  /** DATA_TYPE, lower case: `int`, `decimal`, `datetime`... */
  readonly dataType: string;
  /** COLUMN_TYPE: `int(10) unsigned`, `decimal(30,10)`, `enum('a','b')`... */
  readonly columnType: string;
  readonly nullable: boolean;
  readonly precision?: number;
  readonly scale?: number;
  /** DATETIME_PRECISION for temporal types. */
  readonly fsp?: number;
}

/** How a value of the column is carried to ClickHouse (what `toClickHouseValue` does with it). */
export type ValueKind = "plain" | "bytes" | "bit" | "date" | "datetime" | "json" | "uuid" | "inet4" | "inet6";

export interface MappedType {
  /** The ClickHouse type, Nullable when the column is (temporal types always: zero dates become NULL). */
  readonly type: string;
  readonly kind: ValueKind;
}

const INTS: Readonly<Record<string, number>> = { tinyint: 8, smallint: 16, mediumint: 32, int: 32, integer: 32, bigint: 64 };
const TEXTS = new Set(["char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "time"]);
/** MariaDB's own types, which ClickHouse has too. */
const MARIADB_TYPES: Readonly<Record<string, MappedType>> = { uuid: { type: "UUID", kind: "uuid" }, inet4: { type: "IPv4", kind: "inet4" }, inet6: { type: "IPv6", kind: "inet6" } };
const BYTES = new Set(["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "vector"]);

/** Types whose mapping needs nothing from the column but its type name. */
const FIXED: Readonly<Record<string, MappedType>> = {
  float: { type: "Float32", kind: "plain" },
  double: { type: "Float64", kind: "plain" },
  real: { type: "Float64", kind: "plain" },
  bit: { type: "UInt64", kind: "bit" },
  year: { type: "UInt16", kind: "plain" },
  date: { type: "Date32", kind: "date" },
  json: { type: "String", kind: "json" },
  ...MARIADB_TYPES,
};

function base(c: MysqlColumn): MappedType | undefined {
  const t = c.dataType.toLowerCase();
  const bits = INTS[t];
  if (bits !== undefined) return { type: `${/unsigned/i.test(c.columnType) ? "UInt" : "Int"}${bits}`, kind: "plain" };
  if (t === "decimal" || t === "numeric") return { type: `Decimal(${c.precision ?? 10}, ${c.scale ?? 0})`, kind: "plain" };
  if (t === "datetime") return { type: `DateTime64(${c.fsp ?? 0})`, kind: "datetime" };
  if (t === "timestamp") return { type: `DateTime64(${c.fsp ?? 0}, 'UTC')`, kind: "datetime" };
  const fixed = FIXED[t];
  if (fixed !== undefined) return fixed;
  // MariaDB's JSON is LONGTEXT with a json_valid check: information_schema says longtext.
  if (TEXTS.has(t)) return { type: "String", kind: "plain" };
  if (BYTES.has(t)) return { type: "String", kind: "bytes" };
  return undefined;
}

/** The ClickHouse type of a source column, or undefined for a type this release does not map. */
export function clickhouseType(c: MysqlColumn): MappedType | undefined {
  const mapped = base(c);
  if (mapped === undefined) return undefined;
  const nullable = c.nullable || mapped.kind === "date" || mapped.kind === "datetime";
  return nullable ? { type: `Nullable(${mapped.type})`, kind: mapped.kind } : mapped;
}

/** A MySQL zero date or a date with a zero part (`0000-00-00`, `2024-00-10`), which no ClickHouse type holds. */
export function isZeroDate(text: string): boolean {
  return text.startsWith("0000") || text.slice(5, 7) === "00" || text.slice(8, 10) === "00";
}

/** BIT(n) as a number: big-endian bytes (exact up to 2^53, a decimal string beyond). */
function bitValue(buf: Buffer): number | string {
  let n = 0n;
  for (const byte of buf) n = (n << 8n) | BigInt(byte);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/**
 * MariaDB UUID/INET4/INET6 arrive from the binlog as their 16 or 4 stored bytes (binlog
 * metadata does not name these types); as text ClickHouse reads: the UUID's hex groups, the
 * dotted quad, the eight full IPv6 groups.
 */
function addressText(kind: "uuid" | "inet4" | "inet6", buf: Buffer): string {
  const hex = buf.toString("hex");
  if (kind === "uuid") return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  if (kind === "inet4") return [...buf].join(".");
  return hex.match(/.{4}/g)?.join(":") ?? hex;
}

function bytesOf(v: unknown): Buffer | undefined {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  return undefined;
}

/**
 * The JSON value for ClickHouse. Temporal text stays text (the coercer reads it as UTC and
 * reports what does not fit its range); zero dates become NULL; binary values become base64
 * text (a JSONEachRow string cannot carry arbitrary bytes); BIT becomes its number; JSON is
 * its text; a geometry zongji decoded to an object is kept as its JSON text.
 */
function binaryValue(kind: "plain" | "bit" | "bytes" | "uuid" | "inet4" | "inet6", v: unknown): unknown {
  const buf = bytesOf(v);
  if (buf === undefined) {
    if (kind !== "bytes") return v;
    return typeof v === "string" ? Buffer.from(v, "utf8").toString("base64") : JSON.stringify(v);
  }
  if (kind === "plain") return buf.toString("utf8");
  if (kind === "bit") return bitValue(buf);
  if (kind === "bytes") return buf.toString("base64");
  return addressText(kind, buf);
}

export function toClickHouseValue(kind: ValueKind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (kind === "date" || kind === "datetime") return typeof v === "string" && isZeroDate(v) ? null : v;
  if (kind === "json") return typeof v === "string" ? v : JSON.stringify(v);
  return binaryValue(kind, v);
}
