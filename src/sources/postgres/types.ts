/**
 * The Postgres → ClickHouse type map (docs/sources/postgres.md#types), and the conversion
 * of each value from Postgres's text form (the snapshot reads text, pgoutput sends text) to
 * the JSON ClickHouse reads for the target column. The session runs with TimeZone=UTC,
 * IntervalStyle=iso_8601, bytea_output=hex, DateStyle=ISO, so the text forms are fixed.
 * A value the target type cannot hold exactly throws ValueDoesNotFit: the row becomes a
 * record error with its raw text, never a truncated value.
 */
import { parse as parseArray } from "postgres-array";

/** A column type as the catalog describes it: `format_type` text, domains resolved to their base type. */
export interface PgType {
  /** e.g. `numeric(12,2)`, `timestamp with time zone`, `integer[]`, `mood`. */
  readonly name: string;
  /** For arrays: the element type's name (`integer`); undefined otherwise. */
  readonly element?: string | undefined;
  /** The type (or the array's element type) is an enum. */
  readonly isEnum: boolean;
}

export class ValueDoesNotFit extends Error {
  override readonly name = "ValueDoesNotFit";
}

type Convert = (text: string) => unknown;

export interface ColumnMapping {
  readonly clickhouseType: string;
  readonly convert: Convert;
}

const DATE_MIN = "1900-01-01";
const DATE_MAX = "2299-12-31";

function fail(value: string, type: string, why: string): never {
  throw new ValueDoesNotFit(`value ${JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value)} does not fit ${type}: ${why}`);
}

function decimal(precision: number, scale: number): ColumnMapping {
  const type = `Decimal(${precision}, ${scale})`;
  return {
    clickhouseType: type,
    convert: (text) => {
      const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
      if (m === null) fail(text, type, "not a finite number");
      const intDigits = (m[2] as string).replace(/^0+(?=\d)/, "");
      const frac = (m[3] ?? "").replace(/0+$/, "");
      if (frac.length > scale) fail(text, type, `more than ${scale} fractional digits`);
      if ((intDigits === "0" ? 0 : intDigits.length) > precision - scale) fail(text, type, `more than ${precision - scale} integer digits`);
      return text;
    },
  };
}

function numeric(name: string): ColumnMapping {
  const m = /^numeric\((\d+),(\d+)\)$/.exec(name);
  if (m === null) return decimal(76, 38);
  const [p, s] = [Number(m[1]), Number(m[2])];
  // Beyond ClickHouse's widest Decimal: kept exactly as text.
  if (p > 76) return { clickhouseType: "String", convert: (t) => t };
  return decimal(p, s);
}

function int(type: string, bits: number): ColumnMapping {
  return { clickhouseType: type, convert: (t) => (bits > 32 ? t : Number(t)) };
}

function float(type: string): ColumnMapping {
  const special: Record<string, string> = { NaN: "nan", Infinity: "inf", "-Infinity": "-inf" };
  return { clickhouseType: type, convert: (t) => special[t] ?? Number(t) };
}

function checkYear(text: string, type: string): void {
  if (text.endsWith(" BC") || text === "infinity" || text === "-infinity") fail(text, type, `outside ${DATE_MIN}..${DATE_MAX}`);
  const day = text.slice(0, 10);
  if (day < DATE_MIN || day > DATE_MAX) fail(text, type, `outside ${DATE_MIN}..${DATE_MAX}`);
}

const date: ColumnMapping = {
  clickhouseType: "Date32",
  convert: (t) => {
    checkYear(t, "Date32");
    return t;
  },
};

function timestamp(withZone: boolean): ColumnMapping {
  const type = withZone ? "DateTime64(6, 'UTC')" : "DateTime64(6)";
  return {
    clickhouseType: type,
    convert: (t) => {
      checkYear(t, type);
      if (!withZone) return t;
      // The session's TimeZone is UTC, so Postgres prints the offset +00.
      if (!t.endsWith("+00")) fail(t, type, "expected a UTC offset (+00); the session TimeZone must be UTC");
      return t.slice(0, -3);
    },
  };
}

const text: ColumnMapping = { clickhouseType: "String", convert: (t) => t };

const SCALARS: Record<string, ColumnMapping> = {
  boolean: { clickhouseType: "Bool", convert: (t) => t === "t" },
  smallint: int("Int16", 16),
  integer: int("Int32", 32),
  bigint: int("Int64", 64),
  oid: int("UInt32", 32),
  real: float("Float32"),
  "double precision": float("Float64"),
  money: { clickhouseType: "Decimal(19, 2)", convert: (t) => t.replace(/[$,]/g, "") },
  uuid: { clickhouseType: "UUID", convert: (t) => t },
  date,
  "timestamp without time zone": timestamp(false),
  "timestamp with time zone": timestamp(true),
  // bytea_output=hex prints \x0a0b: the hex digits are kept (unhex() gives the bytes back).
  bytea: { clickhouseType: "String", convert: (t) => t.slice(2) },
};

/** The name without its modifiers: `timestamp(3) with time zone` → `timestamp with time zone`, `character varying(20)` → `character varying`. */
export function baseName(name: string): string {
  return name.replace(/\(\d+(?:,\d+)?\)/, "").replace(/\s+/g, " ").trim();
}

/** The mapping of a non-array type. Everything not listed (text, varchar, json, jsonb, inet, interval, time, enums...) is String. */
export function scalarMapping(name: string): ColumnMapping {
  if (name.startsWith("numeric")) return numeric(name);
  return SCALARS[baseName(name)] ?? text;
}

function arrayMapping(element: string): ColumnMapping {
  const inner = scalarMapping(element);
  const type = `Array(Nullable(${inner.clickhouseType}))`;
  return {
    clickhouseType: type,
    convert: (t) => {
      // A bounds-decorated literal ([0:1]={...}) and multi-dimensional arrays have no one-dimensional form.
      if (t.startsWith("[") || t.startsWith("{{")) fail(t, type, "multi-dimensional or non-default bounds array");
      return parseArray(t, (v) => inner.convert(v));
    },
  };
}

/** The target column type and the value conversion of a Postgres column. Arrays are never Nullable in ClickHouse: NULL becomes []. */
export function columnMapping(type: PgType, nullable: boolean): ColumnMapping {
  if (type.element !== undefined) {
    const array = arrayMapping(type.isEnum ? "text" : type.element);
    return { clickhouseType: array.clickhouseType, convert: array.convert };
  }
  const scalar = type.isEnum ? text : scalarMapping(type.name);
  return { clickhouseType: nullable ? `Nullable(${scalar.clickhouseType})` : scalar.clickhouseType, convert: scalar.convert };
}

/** Converts a text value (null stays null; an array column's NULL is []). Throws ValueDoesNotFit. */
export function convertValue(mapping: ColumnMapping, value: string | null): unknown {
  if (value === null) return mapping.clickhouseType.startsWith("Array(") ? [] : null;
  return mapping.convert(value);
}
