import { parse } from "csv-parse/sync";
import { ErrorType, RecordError, errorMessage } from "../errors.js";
import type { DecodedRecord } from "./json.js";

import type { DelimitedFormat } from "./delimited-formats.js";

export { DELIMITED_FORMATS, type DelimitedFormat } from "./delimited-formats.js";

export interface DelimitedOptions {
  readonly format: DelimitedFormat;
  /** Field names by position (CSV, TabSeparated); the *WithNames formats read them from each message's first line. */
  readonly columns: readonly string[];
  /** CSV field delimiter (default ","). */
  readonly delimiter?: string;
}

const TSV_ESCAPES: Record<string, string> = { b: "\b", f: "\f", r: "\r", n: "\n", t: "\t", "0": "\0", "'": "'", "\\": "\\" };

/** One TabSeparated field as ClickHouse escapes it: backslash sequences, `\N` for NULL. */
function tsvField(text: string): string | null {
  if (text === "\\N") return null;
  return text.includes("\\") ? text.replace(/\\(.)/g, (_, c: string) => TSV_ESCAPES[c] ?? c) : text;
}

/** A message's lines; a trailing newline ends the last line rather than starting an empty one. */
function lines(text: string): string[] {
  const all = text.replace(/\r?\n$/, "").split(/\r?\n/);
  return all;
}

function tsvRows(text: string): (string | null)[][] {
  return lines(text).map((line) => line.split("\t").map(tsvField));
}

function csvRows(text: string, delimiter: string): (string | null)[][] {
  const rows = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, cast: (value, context) => (!context.quoting && value === "\\N" ? null : value) }) as (string | null)[][];
  return rows;
}

/**
 * CSV and TabSeparated on Kafka: one row per message, as ClickHouse's formats of those names
 * read it. Values stay text; the column coercers turn them into the columns' types, so a
 * value that does not fit its column is a record error. Extra fields beyond the named
 * columns are ignored; missing trailing fields take the column's zero value.
 */
export class DelimitedDecoder {
  private readonly tabs: boolean;
  private readonly withNames: boolean;

  constructor(private readonly opts: DelimitedOptions) {
    this.tabs = opts.format.startsWith("TabSeparated");
    this.withNames = opts.format.endsWith("WithNames");
  }

  decode(bytes: Buffer | null): DecodedRecord {
    if (bytes === null || bytes.length === 0) throw new RecordError(ErrorType.dataParsing, `empty message: expected one ${this.opts.format} row`);
    let rows: (string | null)[][];
    try {
      const text = bytes.toString("utf8");
      rows = this.tabs ? tsvRows(text) : csvRows(text, this.opts.delimiter ?? ",");
    } catch (err) {
      throw new RecordError(ErrorType.dataParsing, `malformed ${this.opts.format}: ${errorMessage(err)}`);
    }
    const expected = this.withNames ? 2 : 1;
    if (rows.length !== expected) {
      throw new RecordError(ErrorType.dataParsing, `${this.opts.format} message has ${rows.length} line(s), expected ${this.withNames ? "a header line and one row" : "one row"}`);
    }
    const names = this.withNames ? (rows[0] as (string | null)[]).map((n) => n ?? "") : this.opts.columns;
    const values = rows[expected - 1] as (string | null)[];
    const out: DecodedRecord = {};
    for (let i = 0; i < names.length && i < values.length; i++) out[names[i] as string] = values[i];
    return out;
  }
}
