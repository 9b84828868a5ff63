/**
 * The object storage source: lists the files matching the glob, and moves each one into the
 * table as one bulk statement through the core (ClickHouse reads it, or the consumer streams
 * it), in lexical order, each exactly once. A file's position in the checkpoint store says
 * it is done; the statement carries an insert deduplication token of the file's version, so
 * a file whose insert was cut by a crash (kill -9) and is run again adds no rows twice. A
 * line-format file ClickHouse refuses goes through the record path (lines.ts) so its
 * malformed lines land in the error table; a refused Parquet/Avro file is marked failed with
 * a system error naming it, and the pipe goes on. One-shot pipes end after the files listed
 * at start; continuous ones poll for keys after the last one.
 */
import type { ObjectStorageSource } from "../../api/index.js";
import { SourceError, errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import type { Checkpoint, RawRecord, RecordSink, Source } from "../../ingest/source.js";
import type { CheckpointStore } from "../plugin.js";
import { fileCompression } from "./formats.js";
import type { KeyGlob } from "./glob.js";
import { LineConverter, numberedLines } from "./lines.js";
import { Position, planFiles, resumeLine } from "./plan.js";
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
  /** Records per hand-over on the record path. */
  readonly chunkRecords?: number;
  /** Files a one-shot pipe moves at once (default FILES_IN_FLIGHT). */
  readonly filesInFlight?: number;
}

export class ObjectStorageRecordSource implements Source {
  private readonly positions = new Map<string, string>();
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

  async start(sink: RecordSink): Promise<void> {
    await this.store.check(this.opts.glob.prefix, AbortSignal.timeout(30_000));
    for (const [stream, position] of await this.opts.checkpoints.load()) this.positions.set(stream, position);
    sink.onPhase("Running");
    this.loop = this.run(sink).catch((err: unknown) => {
      if (this.stopping.signal.aborted) return;
      this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
    });
  }

  private async run(sink: RecordSink): Promise<void> {
    for (;;) {
      const listing: ObjectInfo[] = [];
      for await (const f of this.store.list(this.opts.glob.prefix, this.stopping.signal)) if (this.opts.glob.matches(f.key)) listing.push(f);
      const plan = planFiles(listing, this.positions, { replica: this.opts.replica, continuous: this.spec.continuous });
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
    const message = `${f.key}: ${f.size} bytes is over the 10 GB limit for one file; skipped`;
    if (sink.onSourceError === undefined) this.opts.logger.error({ key: f.key, size: f.size }, message);
    else sink.onSourceError(message);
    await this.progress(sink, { stream: f.key, position: Position.skipped(f.size) });
  }

  private async progress(sink: RecordSink, checkpoint: Checkpoint): Promise<void> {
    await sink.onProgress([checkpoint]);
    this.positions.set(checkpoint.stream, checkpoint.position);
  }

  private async ingest(f: ObjectInfo, sink: RecordSink): Promise<void> {
    const from = resumeLine(this.positions.get(f.key));
    if (from === 0) {
      if (sink.onBulk === undefined) throw new SourceError("this ingest core cannot run bulk statements, which object storage needs", { retriable: false });
      const result = await sink.onBulk(await fileBulk(this.opts.transfer, f));
      if (result.status !== "refused") {
        this.positions.set(f.key, result.status === "inserted" ? Position.done(f.etag) : Position.failed(f.etag));
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
    try {
      const body = await this.store.read(f.key, this.stopping.signal);
      for await (const [n, line] of numberedLines(body, fileCompression(this.spec.compression, f.key), f.key)) {
        const json = converter.convert(line);
        if (n <= from || json === undefined || line.trim() === "") continue;
        const raw = Buffer.from(line);
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
    await this.progress(sink, { stream: f.key, position: Position.done(f.etag) });
  }

  private async fail(f: ObjectInfo, sink: RecordSink, message: string): Promise<void> {
    sink.onSourceError?.(message);
    await this.progress(sink, { stream: f.key, position: Position.failed(f.etag) });
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

  commit(): Promise<void> {
    // Positions are the state rows the core writes (the checkpoint store); nothing to tell the store.
    return Promise.resolve();
  }

  lag(): Promise<Map<string, number>> {
    return Promise.resolve(new Map([["files", this.pending]]));
  }

  close(): Promise<void> {
    this.stopping.abort();
    this.store.close();
    return Promise.resolve();
  }
}
