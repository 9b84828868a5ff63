import { isUtf8 } from "node:buffer";
import type { ErrorRow } from "./sink.js";

/**
 * Error rows carry the record's exact bytes. A record that is text keeps its text; one that
 * is not valid UTF-8 (an Avro or Protobuf frame, say) keeps its Buffer, because decoding it
 * as UTF-8 would replace the invalid bytes with U+FFFD and lose them.
 */
export function rawMessage(bytes: Buffer | null | undefined): string | Buffer {
  if (bytes === null || bytes === undefined) return "";
  return isUtf8(bytes) ? bytes.toString("utf8") : Buffer.from(bytes);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = "0123456789abcdef";

/**
 * Bytes as the inside of a JSON string, escaped only where JSON requires (quote, backslash,
 * control characters) and otherwise left as they are. ClickHouse's JSONEachRow reader takes
 * other bytes verbatim into a String, valid UTF-8 or not, so the column gets the exact bytes;
 * a `\u00XX` escape for a byte ≥ 0x80 would instead become that code point's UTF-8.
 */
export function jsonStringBytes(bytes: Buffer): Buffer {
  let extra = 0;
  for (const b of bytes) if (b === QUOTE || b === BACKSLASH) extra += 1;
  else if (b < 0x20) extra += 5;
  if (extra === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + extra);
  let o = 0;
  for (const b of bytes) {
    if (b === QUOTE || b === BACKSLASH) {
      out[o++] = BACKSLASH;
      out[o++] = b;
    } else if (b < 0x20) {
      o += out.write(`\\u00${HEX[b >> 4] as string}${HEX[b & 15] as string}`, o, "latin1");
    } else {
      out[o++] = b;
    }
  }
  return out;
}

/** One error row as a JSONEachRow line; raw bytes go in unescaped but for what JSON requires. */
export function errorRowLine(row: ErrorRow): Buffer {
  const raw = row.raw_message;
  if (typeof raw === "string") return Buffer.from(`${JSON.stringify(row)}\n`);
  const head = JSON.stringify({ time: row.time, pipe: row.pipe, error_type: row.error_type, message: row.message, source_position: row.source_position });
  return Buffer.concat([Buffer.from(`${head.slice(0, -1)},"raw_message":"`), jsonStringBytes(raw), Buffer.from('"}\n')]);
}
