import { ErrorType, RecordError } from "../errors.js";

export type DecodedRecord = Record<string, unknown>;

/** JSONEachRow: one JSON object per message. */
export function decodeJsonObject(bytes: Buffer | null): DecodedRecord {
  if (bytes === null || bytes.length === 0) throw new RecordError(ErrorType.decode, "empty message: expected a JSON object");
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new RecordError(ErrorType.decode, `malformed JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? "null" : Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`;
    throw new RecordError(ErrorType.decode, `expected a JSON object per message, got ${kind}`);
  }
  return parsed as DecodedRecord;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Cheap shape check for the pass-through path: the message looks like one JSON object
 * (first non-blank byte `{`, last `}`). Anything else is decoded record by record so it
 * gets a precise error instead of failing a whole batch.
 */
export function looksLikeJsonObject(bytes: Buffer | null): boolean {
  if (bytes === null) return false;
  let start = 0;
  let end = bytes.length - 1;
  while (start <= end && isSpace(bytes[start])) start++;
  while (end >= start && isSpace(bytes[end])) end--;
  return end > start && bytes[start] === 0x7b && bytes[end] === 0x7d;
}
