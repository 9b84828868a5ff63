/**
 * Type coercion from decoded JSON values to the values of a JSONEachRow line that a
 * ClickHouse server with default settings accepts for a column of a given type.
 *
 * `compileCoercer(parseType(column.type))` is called once per column; the returned closure
 * runs per field per row, so it does no parsing of the type and no regex on valid input.
 *
 * Missing values: an absent field (`undefined`) gives `undefined`, which JSON.stringify
 * leaves out of the line, so the server applies the column's DEFAULT (NULL or the type's
 * zero value when there is none). A JSON `null` gives `defaultValue(type)`: NULL for a
 * Nullable column, otherwise `undefined` as for an absent field. Inside an Array, Map or
 * Tuple nothing can be left out, so a null element of a non-Nullable type becomes the
 * type's zero value (`zeroValue`).
 */
import { CoercionError, fail } from "./coercion-error.js";
import {
  boolCoercer,
  decimalCoercer,
  enumCoercer,
  fixedStringCoercer,
  floatCoercer,
  intCoercer,
  ipv4Coercer,
  ipv6Coercer,
  isPlainObject,
  jsonCoercer,
  stringCoercer,
  uuidCoercer,
  type Coercer,
} from "./coerce-scalars.js";
import { dateTime64Coercer, dateTimeCoercer, dateTypeCoercer } from "./coerce-temporal.js";
import { formatType, type ChType, type TupleElement } from "./type-parser.js";

export { CoercionError, type Coercer };

type Of<K extends ChType["kind"]> = Extract<ChType, { kind: K }>;

/** A failure inside an element, located at `segment`; anything else passes unchanged. */
function locate(e: unknown, segment: string): unknown {
  return e instanceof CoercionError ? e.within(segment) : e;
}

function keySegment(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

// The element loops below keep the position in a variable and locate a failure once in a
// catch, rather than allocating a closure per element.

function arrayCoercer(type: Of<"array">): Coercer {
  const element = compileElement(type.element);
  const expected = formatType(type);
  return (v) => {
    if (!Array.isArray(v)) return fail(expected, v, "not an array");
    const out = new Array<unknown>(v.length);
    let i = 0;
    try {
      for (; i < v.length; i += 1) out[i] = element(v[i]);
    } catch (e) {
      throw locate(e, `[${i}]`);
    }
    return out;
  };
}

/** JSON object keys are text; the key type decides whether that text is acceptable. */
function mapCoercer(type: Of<"map">): Coercer {
  const expected = formatType(type);
  const keyKind = type.key.kind === "lowCardinality" ? type.key.inner.kind : type.key.kind;
  const key = keyKind === "string" ? undefined : compileElement(type.key);
  const value = compileElement(type.value);
  return (v) => {
    if (!isPlainObject(v)) return fail(expected, v, "not a JSON object");
    const out: Record<string, unknown> = {};
    let k = "";
    let inKey = false;
    try {
      for (k in v) {
        inKey = key !== undefined;
        const outKey = key === undefined ? k : String(key(k));
        inKey = false;
        out[outKey] = value(v[k]);
      }
    } catch (e) {
      throw locate(e, inKey ? `${keySegment(k)} (key)` : keySegment(k));
    }
    return out;
  };
}

function unnamedTupleCoercer(expected: string, elements: readonly TupleElement[]): Coercer {
  const coercers = elements.map((e) => compileElement(e.type));
  const n = coercers.length;
  return (v) => {
    if (!Array.isArray(v)) return fail(expected, v, "not an array");
    if (v.length !== n) return fail(expected, v, `has ${v.length} elements, expected ${n}`);
    const out = new Array<unknown>(n);
    let i = 0;
    try {
      for (; i < n; i += 1) out[i] = (coercers[i] as Coercer)(v[i]);
    } catch (e) {
      throw locate(e, `[${i}]`);
    }
    return out;
  };
}

/** Named tuples take an object by name (missing names get zero values) or a positional array. */
function namedTupleCoercer(expected: string, elements: readonly TupleElement[]): Coercer {
  const names = elements.map((e) => e.name as string);
  const coercers = elements.map((e) => compileElement(e.type));
  const n = names.length;
  return (v) => {
    const positional = Array.isArray(v);
    if (positional && v.length !== n) return fail(expected, v, `has ${v.length} elements, expected ${n}`);
    if (!positional && !isPlainObject(v)) return fail(expected, v, "not an object or array");
    const source = v as Record<string, unknown> & unknown[];
    const out: Record<string, unknown> = {};
    let i = 0;
    try {
      for (; i < n; i += 1) {
        const name = names[i] as string;
        out[name] = (coercers[i] as Coercer)(positional ? source[i] : source[name]);
      }
    } catch (e) {
      throw locate(e, positional ? `[${i}]` : keySegment(names[i] as string));
    }
    return out;
  };
}

function tupleCoercer(type: Of<"tuple">): Coercer {
  const expected = formatType(type);
  const named = type.elements[0]?.name !== undefined;
  return named ? namedTupleCoercer(expected, type.elements) : unnamedTupleCoercer(expected, type.elements);
}

/** Dynamic and Variant: the server picks the stored type from the JSON value itself. */
const passThrough: Coercer = (v) => v;

type Builders = { [K in ChType["kind"]]: (t: Of<K>) => Coercer };

const builders: Builders = {
  int: intCoercer,
  float: floatCoercer,
  bfloat16: floatCoercer,
  decimal: decimalCoercer,
  bool: boolCoercer,
  string: stringCoercer,
  fixedString: fixedStringCoercer,
  date: dateTypeCoercer,
  date32: dateTypeCoercer,
  dateTime: dateTimeCoercer,
  dateTime64: dateTime64Coercer,
  enum: enumCoercer,
  uuid: uuidCoercer,
  ipv4: ipv4Coercer,
  ipv6: ipv6Coercer,
  lowCardinality: (t) => compileValue(t.inner),
  nullable: (t) => compileValue(t.inner),
  array: arrayCoercer,
  map: mapCoercer,
  tuple: tupleCoercer,
  json: jsonCoercer,
  dynamic: () => passThrough,
  variant: () => passThrough,
};

/** Coercer for a value known to be neither null nor undefined. */
function compileValue(type: ChType): Coercer {
  const build = builders[type.kind] as (t: ChType) => Coercer;
  return build(type);
}

function unwrapLowCardinality(type: ChType): ChType {
  return type.kind === "lowCardinality" ? type.inner : type;
}

function isNullable(type: ChType): boolean {
  const t = unwrapLowCardinality(type);
  return t.kind === "nullable" || t.kind === "dynamic" || t.kind === "variant";
}

/** Coercer for an element of an Array, Map or Tuple, where a missing value cannot be left out. */
function compileElement(type: ChType): Coercer {
  const coerce = compileValue(type);
  const missing = isNullable(type) ? null : zeroValue(type);
  return (v) => (v === null || v === undefined ? missing : coerce(v));
}

/**
 * Compiles the coercer of a column type once; call the result per value. Throws
 * CoercionError (with `expected`, `value`, `reason`, `path`) for a value that does not fit;
 * the caller adds the column with `err.withColumn(name)`.
 */
export function compileCoercer(type: ChType): Coercer {
  const coerce = compileValue(type);
  const nullValue = defaultValue(type);
  return (v) => (v === undefined ? undefined : v === null ? nullValue : coerce(v));
}

/**
 * What to write for a JSON null: `null` for Nullable (and Dynamic/Variant) columns,
 * otherwise `undefined`, i.e. leave the key out of the line so that ClickHouse applies the
 * column's DEFAULT expression or zero value. (An absent field is always left out.)
 */
export function defaultValue(type: ChType): unknown {
  return isNullable(type) ? null : undefined;
}

const zeroScalars: { [K in ChType["kind"]]?: unknown } = {
  float: 0,
  bfloat16: 0,
  decimal: "0",
  bool: false,
  string: "",
  fixedString: "",
  date: "1970-01-01",
  date32: "1970-01-01",
  dateTime: 0,
  dateTime64: "0",
  uuid: "00000000-0000-0000-0000-000000000000",
  ipv4: "0.0.0.0",
  ipv6: "::",
};

/** The value ClickHouse itself uses as the type's default (0, "", 1970-01-01, [], {} ...). */
export function zeroValue(type: ChType): unknown {
  switch (type.kind) {
    case "int":
      return type.bits > 32 ? "0" : 0;
    case "enum":
      return type.members.reduce((min, m) => (m.value < min.value ? m : min)).name;
    case "lowCardinality":
      return zeroValue(type.inner);
    case "nullable":
    case "dynamic":
    case "variant":
      return null;
    case "array":
      return [];
    case "map":
    case "json":
      return {};
    case "tuple":
      return type.elements[0]?.name === undefined ? type.elements.map((e) => zeroValue(e.type)) : Object.fromEntries(type.elements.map((e) => [e.name, zeroValue(e.type)]));
    default:
      return zeroScalars[type.kind];
  }
}
