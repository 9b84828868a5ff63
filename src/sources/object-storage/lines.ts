/**
 * The record path for a line-format file ClickHouse refused as a whole: the consumer reads
 * the object itself, line by line, and hands each line to the core as a record (stream: the
 * key; position: the line number; shown as `file:line`), so the core's insert-error policy
 * isolates the malformed lines into the error table with their raw text. CSV and TSV lines
 * become JSON objects (the core's record format) keyed by the header or the destination's
 * column order, parsed by the core's delimited decoder; a line that does not parse stays
 * raw, and the core keeps it as an error.
 */
import { createInterface } from "node:readline";
import * as zlib from "node:zlib";
import type { ObjectStorageSource } from "../../api/index.js";
import { DelimitedDecoder } from "../../ingest/decoders/delimited.js";
import { RecordError, SourceError } from "../../ingest/errors.js";
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

/**
 * Turns a file's lines into JSON records with the core's CSV/TSV decoder; the first line of
 * a CSV/TSV file is a header when every field names a column (as ClickHouse detects it).
 */
export class LineConverter {
  private decoder: DelimitedDecoder | undefined;
  private first = true;

  constructor(
    private readonly format: ObjectStorageSource["format"],
    private readonly columns: readonly string[],
  ) {
    this.decoder = format === "CSV" || format === "TabSeparated" ? new DelimitedDecoder({ format, columns }) : undefined;
  }

  /** The record's JSON, or undefined for a header line; the raw line itself when it does not parse (the core keeps it as an error). */
  convert(line: string): string | undefined {
    if (this.decoder === undefined) return line;
    let row;
    try {
      row = this.decoder.decode(Buffer.from(line));
    } catch (err) {
      if (err instanceof RecordError) return line;
      throw err;
    }
    const first = this.first;
    this.first = false;
    const fields = Object.values(row);
    if (first && fields.length > 0 && fields.every((f) => typeof f === "string" && this.columns.includes(f))) {
      this.decoder = new DelimitedDecoder({ format: this.format as "CSV" | "TabSeparated", columns: fields as string[] });
      return undefined;
    }
    return JSON.stringify(row);
  }
}
