/**
 * The object storage source: lists the files matching the glob, and moves each one into the
 * table as one bulk statement through the core (ClickHouse reads it, or the consumer streams
 * it), in lexical order (or, with a queueUrl, in the order S3 events name them: any-order.ts),
 * each exactly once. A finished file gets a row in the table of ingested files
 * (files-record.ts) once its rows and state row are committed, and the replica's resume
 * stream in the checkpoint store moves to its key (plan.ts); the statement carries an
 * insert deduplication token of the file's version, so a file whose insert was cut by a
 * crash (kill -9) and is run again adds no rows twice. A
 * line-format file ClickHouse refuses goes through the record path (lines.ts) so its
 * malformed lines land in the error table; a refused Parquet/Avro file is marked failed with
 * a system error naming it, and the pipe goes on. One-shot pipes end after the files listed
 * at start; continuous ones poll for keys after the last one.
 */
import type { ObjectStorageSource } from "../../api/index.js";
import type { FileStatus } from "../../clickhouse/files-table.js";
import { SourceError, errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import type { Checkpoint, RawRecord, RecordSink, Source } from "../../ingest/source.js";
import type { CheckpointStore } from "../plugin.js";
import { fileCompression } from "./formats.js";
import type { KeyGlob } from "./glob.js";
import { LineConverter, numberedLines } from "./lines.js";
import { drainQueue } from "./any-order.js";
import type { FilesRecord } from "./files-record.js";
import { MAX_FILE_BYTES, Position, planFiles, resumeKey, resumeLine, resumeStream } from "./plan.js";
import type { EventQueue } from "./queue.js";
import type { ObjectInfo, ObjectStore } from "./store.js";
import { type TransferContext, fileBulk } from "./transfer.js";
import type { FileMeta } from "./virtual-columns.js";

/**
 * One-shot pipes move this many files at once, each its own insert: ClickHouse reads one
 * file with one stream, so a single file at a time leaves the server's cores idle (measured
 * in bench/object-storage.ts).
 */
export const FILES_IN_FLIGHT = 4;

export interface ObjectStorageSourceOptions {
  readonly transfer: TransferContext;
  readonly glob: KeyGlob;
  readonly pollMs: number;
  /** Destination column names the record path keys CSV/TSV fields by (header-less files). */
  readonly lineColumns: readonly string[];
  readonly replica: { readonly index: number; readonly count: number };
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  readonly onFatal: (err: Error) => void;
  readonly files: FilesRecord;
  /** Any-order mode: the SQS queue of S3 event notifications. */
  readonly queue?: EventQueue;
  /** Records per hand-over on the record path. */
  readonly chunkRecords?: number;
  /** Files a one-shot pipe moves at once (default FILES_IN_FLIGHT). */
  readonly filesInFlight?: number;
}

/** A file whose final position is handed to the core: recorded in the files table when committed. */
interface Settling {
  readonly file: ObjectInfo;
  readonly status: FileStatus;
  readonly rows: number;
  readonly recorded: () => void;
}

const INITIAL_LOAD = "initial-load";

export class ObjectStorageRecordSource implements Source {
  private readonly positions = new Map<string, string>();
  private readonly settling = new Map<string, Settling>();
  private after: string | undefined;
  private initialLoadDone = false;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private pending = 0;

  constructor(private readonly opts: ObjectStorageSourceOptions) {}

  private get spec(): ObjectStorageSource {
    return this.opts.transfer.source;
  }

  private get store(): ObjectStore {
    return this.opts.transfer.store;
  }

  private get stream(): string {
    return resumeStream(this.opts.replica.index);
  }

  /** Any-order mode: the replica's initial load is done (then only the queue brings files). */
  private get marker(): string {
    return `${INITIAL_LOAD}/${this.opts.replica.index}`;
  }

  async start(sink: RecordSink): Promise<void> {
    await this.store.check(this.opts.glob.prefix, AbortSignal.timeout(30_000));
    for (const [stream, position] of await this.opts.checkpoints.load()) this.positions.set(stream, position);
    // The replica's own streams are not file keys: read, then kept out of the files' positions.
    this.after = resumeKey(this.positions.get(this.stream));
    this.initialLoadDone = this.positions.get(this.marker) === "done";
    this.positions.delete(this.stream);
    this.positions.delete(this.marker);
    for (const [key, status] of await this.opts.files.finished()) this.positions.set(key, `${status}:`);
    sink.onPhase("Running");
    this.loop = this.run(sink).catch((err: unknown) => {
      if (this.stopping.signal.aborted) return;
      this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
    });
  }

  private async run(sink: RecordSink): Promise<void> {
    if (this.opts.queue !== undefined) return this.runQueue(sink, this.opts.queue);
    for (;;) {
      const listing: ObjectInfo[] = [];
      for await (const f of this.store.list(this.opts.glob.prefix, this.stopping.signal)) if (this.opts.glob.matches(f.key)) listing.push(f);
      const plan = planFiles(listing, this.positions, { replica: this.opts.replica, continuous: this.spec.continuous, ...(this.after === undefined ? {} : { after: this.after }) });
      this.pending = plan.todo.reduce((n, f) => n + f.size, 0);
      for (const f of plan.oversized) await this.skip(f, sink);
      // Continuous pipes go one file at a time: "after the last one" must never pass a file still in flight.
      await this.ingestAll(plan.todo, sink, this.spec.continuous ? 1 : (this.opts.filesInFlight ?? FILES_IN_FLIGHT));
      if (this.stopping.signal.aborted) return;
      if (!this.spec.continuous) {
        await sink.onEnd();
        return;
      }
      if (!(await this.sleep(this.opts.pollMs))) return;
    }
  }

  /**
   * Any-order mode, as ClickPipes: the files present at start (once per replica, marked in
   * the checkpoint store so a restart does not list again what the files table may have
   * forgotten), then each file an S3 event names.
   */
  private async runQueue(sink: RecordSink, queue: EventQueue): Promise<void> {
    if (!this.initialLoadDone) {
      const listing: ObjectInfo[] = [];
      for await (const f of this.store.list(this.opts.glob.prefix, this.stopping.signal)) if (this.opts.glob.matches(f.key)) listing.push(f);
      const plan = planFiles(listing, this.positions, { replica: this.opts.replica, continuous: false });
      for (const f of plan.oversized) await this.skip(f, sink);
      await this.ingestAll(plan.todo, sink, this.opts.filesInFlight ?? FILES_IN_FLIGHT);
      if (this.stopping.signal.aborted) return;
      await sink.onProgress([{ stream: this.marker, position: "done" }]);
    }
    await drainQueue({
      queue,
      bucket: this.opts.transfer.bucket,
      glob: this.opts.glob,
      store: this.store,
      files: this.opts.files,
      waitSeconds: this.opts.pollMs / 1000,
      signal: this.stopping.signal,
      logger: this.opts.logger,
      reportError: (message) => this.reportError(sink, message),
      ingest: (f) => (f.size > MAX_FILE_BYTES ? this.skip(f, sink) : this.ingest(f, sink)),
    });
  }

  /** A system error row in clickpipes_log (the core's sink), else the consumer's log. */
  private reportError(sink: RecordSink, message: string): void {
    if (sink.onSourceError === undefined) this.opts.logger.error({}, message);
    else sink.onSourceError(message);
  }

  /** Files in order, up to `width` at a time (each its own statement, stream and deduplication token). */
  private async ingestAll(files: readonly ObjectInfo[], sink: RecordSink, width: number): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length && !this.stopping.signal.aborted) {
        const f = files[next++] as ObjectInfo;
        await this.ingest(f, sink);
        this.pending -= f.size;
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, files.length) }, worker));
  }

  private async skip(f: ObjectInfo, sink: RecordSink): Promise<void> {
    this.reportError(sink, `${f.key}: ${f.size} bytes is over the 10 GB limit for one file; skipped`);
    await this.settle(sink, f, "skipped", 0);
  }

  /**
   * Hands the file's final position to the core with what is held, and waits until it is
   * committed and the file recorded (commit below): an any-order pipe acknowledges its
   * message only then.
   */
  private async settle(sink: RecordSink, f: ObjectInfo, status: FileStatus, rows: number): Promise<void> {
    const position = Position[status](f.key);
    const recorded = new Promise<void>((resolve) => this.settling.set(position, { file: f, status, rows, recorded: resolve }));
    await sink.onProgress([{ stream: this.stream, position }]);
    const stopped = new Promise<void>((resolve) => this.stopping.signal.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([recorded, stopped]);
  }

  /** The file is committed (rows and state row): its row in the files table, then it counts as finished here. */
  private async finished(f: ObjectInfo, status: FileStatus, rows: number): Promise<void> {
    await this.opts.files.record({ path: f.key, size: f.size, etag: f.etag, rows, status });
    this.positions.set(f.key, Position[status](f.key));
    if (this.after === undefined || f.key > this.after) this.after = f.key;
  }

  private async ingest(f: ObjectInfo, sink: RecordSink): Promise<void> {
    const from = resumeLine(this.positions.get(f.key));
    if (from === 0) {
      if (sink.onBulk === undefined) throw new SourceError("this ingest core cannot run bulk statements, which object storage needs", { retriable: false });
      const result = await sink.onBulk(await fileBulk({ ...this.opts.transfer, stream: this.stream }, f));
      if (result.status !== "refused") {
        await this.finished(f, result.status === "inserted" ? "done" : "failed", result.status === "inserted" ? result.rows : 0);
        this.opts.logger.info({ key: f.key, ...result }, "file ingested");
        return;
      }
      this.opts.logger.info({ key: f.key, reason: result.message }, "ClickHouse refused the file: reading it line by line to isolate the malformed lines");
    }
    await this.deliverLines(f, sink, from);
  }

  /** The record path: each line a record; `file:line` its position in the error table. */
  private async deliverLines(f: ObjectInfo, sink: RecordSink, from: number): Promise<void> {
    const meta: FileMeta = { path: `${this.opts.transfer.bucket}/${f.key}`, file: f.key.slice(f.key.lastIndexOf("/") + 1), size: f.size, modified: f.modified };
    const converter = new LineConverter(this.spec.format, this.opts.lineColumns);
    const chunk = this.opts.chunkRecords ?? 5_000;
    let records: RawRecord[] = [];
    // Lines handed over, malformed ones included (they land in the error table): the file's rows in the files table.
    let lines = 0;
    try {
      const body = await this.store.read(f.key, this.stopping.signal);
      for await (const [n, line] of numberedLines(body, fileCompression(this.spec.compression, f.key), f.key)) {
        const json = converter.convert(line);
        if (n <= from || json === undefined || line.trim() === "") continue;
        const raw = Buffer.from(line);
        lines++;
        records.push({ value: json === line ? raw : Buffer.from(json), raw, key: null, timestamp: f.modified, stream: f.key, position: String(n), label: `${f.key}:${n}`, meta });
        if (records.length >= chunk) {
          await sink.onRecords(records);
          records = [];
        }
      }
    } catch (err) {
      if (err instanceof SourceError && !err.retriable) return this.fail(f, sink, errorMessage(err));
      throw err;
    }
    if (records.length > 0) await sink.onRecords(records);
    await this.settle(sink, f, "done", lines);
  }

  private async fail(f: ObjectInfo, sink: RecordSink, message: string): Promise<void> {
    this.reportError(sink, message);
    await this.settle(sink, f, "failed", 0);
  }

  /** False when stopped while waiting. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const t = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async stopDelivering(): Promise<void> {
    this.stopping.abort();
    // A bulk statement in flight is left to finish in ClickHouse: its file is not marked done, and its retry is deduplicated.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 2_000))]);
  }

  /**
   * Positions are the state rows the core wrote; files settled up to the committed position
   * are recorded in the files table now. A batch keeps one position per stream (the last),
   * and settle hands positions over in the order of this map, so every entry up to the
   * committed one is in this batch or an earlier one.
   */
  async commit(checkpoints: readonly Checkpoint[]): Promise<void> {
    const mine = checkpoints.find((c) => c.stream === this.stream);
    if (mine === undefined || !this.settling.has(mine.position)) return;
    for (const [position, settling] of this.settling) {
      await this.finished(settling.file, settling.status, settling.rows);
      this.settling.delete(position);
      settling.recorded();
      if (position === mine.position) return;
    }
  }

  lag(): Promise<Map<string, number>> {
    return Promise.resolve(new Map([["files", this.pending]]));
  }

  close(): Promise<void> {
    this.stopping.abort();
    this.store.close();
    this.opts.queue?.close();
    return Promise.resolve();
  }
}
