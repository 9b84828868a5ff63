/**
 * The canonical spelling of a parsed type, as ClickHouse itself prints it, so two spellings
 * of one type compare equal once formatted.
 */
import type { ChType, ChTypeKind } from "./type-model.js";

function quoteTypeString(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function formatTupleName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replaceAll("\\", "\\\\").replaceAll("`", "\\`")}\``;
}

const formatters: { [K in ChTypeKind]: (t: Extract<ChType, { kind: K }>) => string } = {
  int: (t) => `${t.signed ? "" : "U"}Int${t.bits}`,
  float: (t) => `Float${t.bits}`,
  bfloat16: () => "BFloat16",
  decimal: (t) => `Decimal(${t.precision}, ${t.scale})`,
  bool: () => "Bool",
  string: () => "String",
  fixedString: (t) => `FixedString(${t.length})`,
  date: () => "Date",
  date32: () => "Date32",
  dateTime: (t) => (t.timezone === undefined ? "DateTime" : `DateTime(${quoteTypeString(t.timezone)})`),
  dateTime64: (t) => `DateTime64(${t.precision}${t.timezone === undefined ? "" : `, ${quoteTypeString(t.timezone)}`})`,
  enum: (t) => `Enum${t.bits}(${t.members.map((m) => `${quoteTypeString(m.name)} = ${m.value}`).join(", ")})`,
  uuid: () => "UUID",
  ipv4: () => "IPv4",
  ipv6: () => "IPv6",
  lowCardinality: (t) => `LowCardinality(${formatType(t.inner)})`,
  nullable: (t) => `Nullable(${formatType(t.inner)})`,
  array: (t) => `Array(${formatType(t.element)})`,
  map: (t) => `Map(${formatType(t.key)}, ${formatType(t.value)})`,
  tuple: (t) => `Tuple(${t.elements.map((e) => (e.name === undefined ? "" : `${formatTupleName(e.name)} `) + formatType(e.type)).join(", ")})`,
  json: () => "JSON",
  dynamic: () => "Dynamic",
  variant: (t) => `Variant(${t.variants.map(formatType).join(", ")})`,
};

/**
 * The canonical spelling of a type, as ClickHouse itself prints it (`Decimal(10, 2)`,
 * `DateTime64(3, 'UTC')`), so two spellings of one type compare equal once formatted.
 */
export function formatType(type: ChType): string {
  const format = formatters[type.kind] as (t: ChType) => string;
  return format(type);
}

/** Same type, whatever the spelling: compares canonical forms. */
export function sameType(a: ChType, b: ChType): boolean {
  return formatType(a) === formatType(b);
}
