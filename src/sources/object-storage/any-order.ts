/**
 * Any-order mode (ClickPipes' unordered mode): after the initial load, each SQS message of
 * S3 ObjectCreated events names files to ingest, in whatever order they arrive. A message
 * is deleted only once every file it names is committed and recorded in the files table,
 * so a consumer killed mid-file leaves its message to come back after the queue's
 * visibility timeout, and the file's retry is deduplicated (its insert token). A file the
 * files table already holds (an event delivered twice, a file of the initial load, a file
 * another replica took) is not ingested again. Events for another bucket, keys outside the
 * glob and other event types are ignored, as ClickPipes does. A malformed message, or one
 * naming an object that is gone, is a system error row naming it, and the message is
 * deleted (it would fail the same way on every delivery).
 */
import type { Logger } from "../../ingest/logger.js";
import { sleep } from "../../ingest/retry.js";
import { parseS3Event } from "./events.js";
import type { FilesRecord } from "./files-record.js";
import type { KeyGlob } from "./glob.js";
import type { EventQueue, QueueMessage } from "./queue.js";
import type { ObjectInfo, ObjectStore } from "./store.js";

export interface DrainOptions {
  readonly queue: EventQueue;
  readonly bucket: string;
  readonly glob: KeyGlob;
  readonly store: ObjectStore;
  readonly files: FilesRecord;
  readonly waitSeconds: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly reportError: (message: string) => void;
  /** Ingests one file; resolves once it is committed and recorded. */
  readonly ingest: (file: ObjectInfo) => Promise<void>;
}

/** The object as the store lists it now (size, ETag), or undefined when it is gone. */
async function current(store: ObjectStore, key: string, signal: AbortSignal): Promise<ObjectInfo | undefined> {
  for await (const f of store.list(key, signal)) if (f.key === key) return f;
  return undefined;
}

async function handle(message: QueueMessage, o: DrainOptions): Promise<void> {
  const event = parseS3Event(message.body);
  if (!event.ok) {
    o.reportError(`SQS message ${message.id} is not an S3 event notification (${event.reason}); deleted without ingesting anything`);
    return;
  }
  for (const { bucket, key } of event.objects) {
    if (bucket !== o.bucket || !o.glob.matches(key)) continue;
    if (await o.files.isFinished(key)) {
      o.logger.info({ key, message: message.id }, "an event for a file already ingested: ignored");
      continue;
    }
    const file = await current(o.store, key, o.signal);
    if (file === undefined) {
      o.reportError(`${key}: named by SQS message ${message.id} but not in bucket ${bucket} (deleted since?); skipped`);
      continue;
    }
    await o.ingest(file);
  }
}

/** Receives and handles messages until `signal` aborts; a store, queue or ClickHouse failure is thrown for the core to retry. */
export async function drainQueue(o: DrainOptions): Promise<void> {
  while (!o.signal.aborted) {
    const messages = await o.queue.receive(o.waitSeconds, o.signal);
    for (const message of messages) {
      if (o.signal.aborted) return;
      const release = o.queue.hold(message.receipt);
      try {
        await handle(message, o);
      } finally {
        release();
      }
      // Stopped part-way: the message stays, to come back (its finished files are then ignored).
      if (o.signal.aborted) return;
      await o.queue.delete(message.receipt);
    }
    // An empty long poll from a server that answers at once must not spin.
    if (messages.length === 0 && o.waitSeconds < 1) await sleep(1_000, o.signal);
  }
}
