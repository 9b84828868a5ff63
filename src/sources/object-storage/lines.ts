/**
 * The record path for a line-format file ClickHouse refused as a whole: the consumer reads
 * the object itself, line by line, and hands each line to the core as a record (stream: the
 * key; position: the line number; shown as `file:line`), so the core's insert-error policy
 * isolates the malformed lines into the error table with their raw text. CSV and TSV lines
 * become JSON objects (the core's record format) keyed by the header or the destination's
 * column order; a line that does not parse stays raw, and the core keeps it as an error.
 */
import { createInterface } from "node:readline";
import * as zlib from "node:zlib";
import type { ObjectStorageSource } from "../../api/index.js";
import { SourceError } from "../../ingest/errors.js";
import type { Compression } from "./formats.js";

type Decompressor = () => NodeJS.ReadWriteStream;

/** What Node decompresses itself; zstd only from Node 22.15 on. */
function decompressor(c: Exclude<Compression, "auto">): Decompressor | undefined {
  if (c === "gzip") return () => zlib.createGunzip();
  if (c === "brotli") return () => zlib.createBrotliDecompress();
  const zstd = (zlib as unknown as { createZstdDecompress?: Decompressor }).createZstdDecompress;
  if (c === "zstd" && typeof zstd === "function") return zstd;
  return undefined;
}

/** The object's text lines (numbered from 1), decompressed. */
export async function* numberedLines(body: NodeJS.ReadableStream, compression: Exclude<Compression, "auto">, key: string): AsyncIterable<[number, string]> {
  let input = body;
  if (compression !== "none") {
    const make = decompressor(compression);
    if (make === undefined) {
      throw new SourceError(`${key}: malformed lines of a ${compression} file cannot be isolated by this consumer (Node decompresses gzip, brotli and, from Node 22.15, zstd)`, { retriable: false });
    }
    input = body.pipe(make());
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    yield [n, line];
  }
}

/** One CSV line's fields (RFC 4180 quoting); undefined when its quotes do not close. */
export function splitCsv(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i >= line.length) return fields;
      if (line[i] !== ",") return undefined;
      i++;
    } else {
      const comma = line.indexOf(",", i);
      if (comma < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

const TSV_ESCAPES: Readonly<Record<string, string>> = { t: "\t", n: "\n", r: "\r", "\\": "\\", "0": "\0", b: "\b", f: "\f", "'": "'" };

/** One TabSeparated line's fields, escapes decoded; `\N` is null. */
export function splitTsv(line: string): (string | null)[] {
  return line.split("\t").map((f) => (f === "\\N" ? null : f.replace(/\\(.)/g, (m: string, c: string) => TSV_ESCAPES[c] ?? m)));
}

/** Turns a file's lines into JSON records; the first line of a CSV/TSV file is a header when every field names a column. */
export class LineConverter {
  private names: readonly string[];
  private first = true;

  constructor(
    private readonly format: ObjectStorageSource["format"],
    private readonly columns: readonly string[],
  ) {
    this.names = columns;
  }

  /** The record's JSON, or undefined for a header line; the raw line itself when it cannot be split (the core keeps it as an error). */
  convert(line: string): string | undefined {
    if (this.format === "JSONEachRow") return line;
    const fields = this.format === "CSV" ? splitCsv(line) : splitTsv(line);
    const first = this.first;
    this.first = false;
    if (fields === undefined) return line;
    if (first && fields.length > 0 && fields.every((f) => f !== null && this.columns.includes(f))) {
      this.names = fields as string[];
      return undefined;
    }
    if (fields.length !== this.names.length) return line;
    const row: Record<string, string | null> = {};
    this.names.forEach((name, i) => {
      row[name] = fields[i] ?? null;
    });
    return JSON.stringify(row);
  }
}
