/**
 * S3 event notifications as SQS delivers them (Pure): the objects an `ObjectCreated:*`
 * message names. Other events (ObjectRemoved..., the `s3:TestEvent` S3 sends when the
 * notification is set up) name none; a body that is not an S3 event at all is malformed
 * and says why. Keys arrive URL-encoded with `+` for a space, as S3 writes them.
 */

export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
}

export type ParsedEvent = { readonly ok: true; readonly objects: readonly CreatedObject[] } | { readonly ok: false; readonly reason: string };

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function decodeKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replaceAll("+", " "));
  } catch {
    // A key that is not valid percent-encoding is not one S3 wrote: the record is malformed.
    return undefined;
  }
}

/** One S3 event record: the created object, null for another event, or why it is malformed. */
function createdObject(entry: unknown): CreatedObject | null | string {
  const r = record(entry);
  if (r === undefined) return "a record that is not an object";
  const name = r.eventName;
  if (typeof name !== "string") return "a record without eventName";
  if (!name.startsWith("ObjectCreated:")) return null;
  const s3 = record(r.s3);
  const bucket = record(s3?.bucket)?.name;
  const rawKey = record(s3?.object)?.key;
  if (typeof bucket !== "string" || typeof rawKey !== "string") return "an ObjectCreated record without s3.bucket.name and s3.object.key";
  const key = decodeKey(rawKey);
  return key === undefined ? `an ObjectCreated record whose key ${JSON.stringify(rawKey)} is not URL-encoded` : { bucket, key };
}

export function parseS3Event(body: string): ParsedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON: reported as malformed (the caller logs it), not thrown.
    return { ok: false, reason: "the message body is not JSON" };
  }
  const message = record(parsed);
  if (message === undefined) return { ok: false, reason: "the message body is not a JSON object" };
  if (message.Event === "s3:TestEvent") return { ok: true, objects: [] };
  if (!Array.isArray(message.Records)) return { ok: false, reason: "the message has no Records array of S3 events" };
  const objects: CreatedObject[] = [];
  for (const entry of message.Records) {
    const outcome = createdObject(entry);
    if (typeof outcome === "string") return { ok: false, reason: outcome };
    if (outcome !== null) objects.push(outcome);
  }
  return { ok: true, objects };
}
