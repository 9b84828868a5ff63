/**
 * Formats and compressions as ClickHouse names them, from the API's (Pure).
 */
import type { ObjectStorageSource } from "../../api/index.js";

export type Compression = ObjectStorageSource["compression"];

/** ClickHouse's compression method for the API's name (`auto`: from the file's extension). */
const CLICKHOUSE_COMPRESSION: Readonly<Record<Compression, string>> = {
  auto: "auto",
  none: "none",
  gzip: "gzip",
  brotli: "br",
  xz: "xz",
  zstd: "zstd",
  lz4: "lz4",
  bz2: "bz2",
  snappy: "snappy",
};

const BY_EXTENSION: readonly [RegExp, Compression][] = [
  [/\.(gz|gzip)$/i, "gzip"],
  [/\.br$/i, "brotli"],
  [/\.xz$/i, "xz"],
  [/\.(zst|zstd)$/i, "zstd"],
  [/\.lz4$/i, "lz4"],
  [/\.bz2$/i, "bz2"],
  [/\.snappy$/i, "snappy"],
];

/** The compression of one file: the spec's, or the extension's when the spec says auto. */
export function fileCompression(spec: Compression, key: string): Exclude<Compression, "auto"> {
  if (spec !== "auto") return spec;
  for (const [re, c] of BY_EXTENSION) if (re.test(key)) return c as Exclude<Compression, "auto">;
  return "none";
}

export function clickhouseCompression(c: Compression): string {
  return CLICKHOUSE_COMPRESSION[c];
}

/** The HTTP Content-Encoding ClickHouse decodes for a compressed INSERT body; undefined: sent as is. */
export function contentEncoding(c: Exclude<Compression, "auto">): string | undefined {
  return c === "none" ? undefined : CLICKHOUSE_COMPRESSION[c];
}

/** Formats whose records are lines: a malformed line can be isolated and kept in the error table. */
export function isLineFormat(format: ObjectStorageSource["format"]): boolean {
  return format === "JSONEachRow" || format === "CSV" || format === "TabSeparated";
}
