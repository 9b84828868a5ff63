/**
 * Postgres tuples (text values, as pgoutput and COPY give them) → CDC change records for a
 * mapped table. A value its column cannot hold makes the record an error record: it goes to
 * the error table with the row's raw text, and the rest of the batch goes in.
 */
import { ErrorType } from "../../ingest/errors.js";
import type { RawRecord } from "../../ingest/source.js";
import type { TableMapping } from "../cdc/model.js";
import { changeRecord, type ChangeEvent, type ChangeOp } from "../cdc/rows.js";
import type { PgColumn } from "./catalog.js";
import { convertValue, ValueDoesNotFit } from "./types.js";

/** A mapped table as the consumer knows it now: its replicated columns (excluded ones removed) and sorting key. */
export interface TableState {
  readonly mapping: TableMapping;
  readonly columns: readonly PgColumn[];
  readonly orderBy: readonly string[];
}

export type Tuple = Readonly<Record<string, string | null | undefined>>;

export interface Converted {
  readonly values: Record<string, unknown>;
  /** Columns the tuple does not carry: an unchanged TOASTed value of an UPDATE. */
  readonly missing: string[];
  readonly error?: string | undefined;
}

/** The replicated columns of a tuple, converted; the first value that does not fit is the error. */
export function convertTuple(state: TableState, tuple: Tuple): Converted {
  const values: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const column of state.columns) {
    const raw = tuple[column.name];
    if (raw === undefined) {
      missing.push(column.name);
      continue;
    }
    try {
      values[column.name] = convertValue(column.mapping, raw);
    } catch (err) {
      if (!(err instanceof ValueDoesNotFit)) throw err;
      return { values, missing, error: `column ${column.name} (${column.sourceType}): ${err.message}` };
    }
  }
  return { values, missing };
}

export interface RecordPlace {
  readonly stream: string;
  readonly position: string;
  readonly version: bigint;
  readonly timestamp: number;
}

/** The record of a converted change, or its error record carrying the raw tuple. */
export function toRecord(state: TableState, op: ChangeOp, converted: Converted, tuple: Tuple, place: RecordPlace): RawRecord {
  const now = Date.now();
  const event: ChangeEvent = { op, table: state.mapping.targetTable, values: converted.values, ...place };
  if (converted.error === undefined) return changeRecord(event, now);
  const raw = Buffer.from(JSON.stringify({ table: `${state.mapping.sourceSchemaName}.${state.mapping.sourceTable}`, op, row: tuple }));
  return { ...changeRecord({ ...event, values: {} }, now), raw, value: raw, error: { type: ErrorType.type, message: converted.error } };
}
