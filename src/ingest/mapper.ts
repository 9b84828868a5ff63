import { CoercionError, compileCoercer } from "../clickhouse/coerce.js";
import { parseType } from "../clickhouse/type-parser.js";
import type { DecodedRecord } from "./decoders/json.js";
import { ConfigError, ErrorType, RecordError } from "./errors.js";
import type { VirtualColumn } from "../sources/plugin.js";
import type { RawRecord } from "./source.js";

export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
}

export interface FieldMapping {
  readonly sourceField: string;
  readonly destinationField: string;
}

export type Coercer = (value: unknown) => unknown;

/**
 * Converts a decoded value (undefined when the record lacks the field) to what ClickHouse's
 * JSONEachRow input accepts for the column type; throws on a value that does not fit.
 */
export type CoercerFactory = (type: string) => Coercer;

/** The product's coercion: src/clickhouse's coercer for the parsed column type. */
export const clickhouseCoercers: CoercerFactory = (type) => compileCoercer(parseType(type));

export type MappedRow = Record<string, unknown>;

interface ColumnPlan {
  readonly name: string;
  readonly type: string;
  readonly coerce: Coercer;
  /** The source's column filled from the record itself, when the column is one and no mapping names it. */
  readonly virtual: VirtualColumn | undefined;
  /** Source path segments; the full dotted string is tried first as a literal key. */
  readonly path: readonly string[];
  readonly field: string;
}

export interface RecordMapper {
  readonly columns: readonly ColumnSpec[];
  /**
   * True when records can go to ClickHouse as their own bytes: every column is either a
   * virtual column or a top-level field of the same name whose type ClickHouse parses from
   * JSON exactly as the coercer would. The batch falls back to `map` when ClickHouse refuses.
   */
  readonly passthrough: boolean;
  /**
   * True when ClickHouse can fill every column from a record's own fields by name (AvroConfluent
   * frames it decodes itself): no virtual columns (their values are per record) and no mapped paths.
   */
  readonly byName?: boolean;
  /** Decoded record → row with every destination column; throws RecordError(TYPE_ERROR). */
  map(record: RawRecord, decoded: DecodedRecord): MappedRow;
  /** `"_partition":1,"_offset":"42",` — virtual columns as JSON members to splice into a passed-through object. */
  virtualMembers(record: RawRecord): string;
}

function readPath(decoded: DecodedRecord, field: string, path: readonly string[]): unknown {
  if (field in decoded) return decoded[field];
  if (path.length < 2) return undefined;
  let current: unknown = decoded;
  for (const segment of path) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Types whose JSON form ClickHouse reads exactly as the coercer converts them, so records may pass through unparsed. */
const PASSTHROUGH_TYPE =
  /^(Nullable\()?(LowCardinality\()?(String|Int64|UInt64|Float64|Bool|UUID|DateTime64\(3(, *'UTC')?\)|DateTime(\('UTC'\))?|Array\(String\))\)?\)?$/;

function sourceFields(columns: readonly ColumnSpec[], mappings: readonly FieldMapping[]): Map<string, string> {
  const names = new Set(columns.map((c) => c.name));
  const byColumn = new Map<string, string>();
  const unknown = mappings.filter((m) => !names.has(m.destinationField)).map((m) => m.destinationField);
  if (unknown.length > 0) {
    throw new ConfigError(
      `fieldMappings name destination columns that are not in the table: ${unknown.join(", ")} (columns: ${[...names].join(", ")})`,
      { unknown },
    );
  }
  for (const m of mappings) byColumn.set(m.destinationField, m.sourceField);
  return byColumn;
}

function planColumns(columns: readonly ColumnSpec[], mappings: readonly FieldMapping[], virtuals: readonly VirtualColumn[], coercers: CoercerFactory): ColumnPlan[] {
  const byColumn = sourceFields(columns, mappings);
  const virtualByName = new Map(virtuals.map((v) => [v.name, v]));
  return columns.map((c) => {
    const mapped = byColumn.get(c.name);
    const virtual = mapped === undefined ? virtualByName.get(c.name) : undefined;
    const field = mapped ?? c.name;
    return {
      name: c.name,
      type: c.type,
      coerce: coercers(c.type),
      virtual,
      path: field.split("."),
      field,
    };
  });
}

function coerceColumn(plan: ColumnPlan, value: unknown): unknown {
  try {
    return plan.coerce(value);
  } catch (err) {
    const message = err instanceof CoercionError ? err.withColumn(plan.name).message : `column "${plan.name}": ${(err as Error).message}`;
    throw new RecordError(ErrorType.type, message, { column: plan.name });
  }
}

function virtualCoerced(plan: ColumnPlan, record: RawRecord): unknown {
  return coerceColumn(plan, (plan.virtual as VirtualColumn).value(record, plan.type));
}

/**
 * Compiles the destination columns, fieldMappings and the source's virtual columns into a
 * per-record mapper (done once per table).
 */
export function compileMapper(
  columns: readonly ColumnSpec[],
  mappings: readonly FieldMapping[],
  virtuals: readonly VirtualColumn[] = [],
  coercers: CoercerFactory = clickhouseCoercers,
): RecordMapper {
  const plans = planColumns(columns, mappings, virtuals, coercers);
  const virtualPlans = plans.filter((p) => p.virtual !== undefined);
  const passthrough = plans.every(
    (p) => p.virtual !== undefined || (p.field === p.name && p.path.length === 1 && PASSTHROUGH_TYPE.test(p.type)),
  );
  return {
    columns,
    passthrough,
    byName: plans.every((p) => p.virtual === undefined && p.field === p.name && p.path.length === 1),
    map(record: RawRecord, decoded: DecodedRecord): MappedRow {
      const row: MappedRow = {};
      for (const plan of plans) {
        row[plan.name] =
          plan.virtual === undefined ? coerceColumn(plan, readPath(decoded, plan.field, plan.path)) : virtualCoerced(plan, record);
      }
      return row;
    },
    virtualMembers(record: RawRecord): string {
      let out = "";
      for (const plan of virtualPlans) {
        const value = virtualCoerced(plan, record);
        if (value !== undefined) out += `${JSON.stringify(plan.name)}:${JSON.stringify(value)},`;
      }
      return out;
    },
  };
}
