import { BodyWriter } from "./body-writer.js";
import type { FrameFormat } from "./frame-passthrough.js";
import type { DecodedRecord } from "./decoders/json.js";
import { rawMessage } from "./error-row.js";
import { ErrorType, RecordError, errorMessage } from "./errors.js";
import { LineRecord } from "./line-record.js";
import type { MappedRow, RecordMapper } from "./mapper.js";
import type { ErrorRow } from "./sink.js";
import { chTime } from "./sink.js";
import { type RawRecord, formatPosition } from "./source.js";

export type Decoder = (bytes: Buffer | null) => DecodedRecord;

/** An error row and the stream of the record it came from (state rows count errors per stream). */
export interface BatchError {
  readonly stream: string;
  readonly row: ErrorRow;
}

const NEWLINE = Buffer.from("\n");

function isBlank(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The record with another value; a literal of the same shape is cheaper per record than a spread. */
function withValue(r: RawRecord, value: Buffer | null): RawRecord {
  const copy: { -readonly [K in keyof RawRecord]: RawRecord[K] } = { value, key: r.key, timestamp: r.timestamp, stream: r.stream, position: r.position, meta: r.meta };
  if (r.table !== undefined) copy.table = r.table;
  if (r.op !== undefined) copy.op = r.op;
  if (r.label !== undefined) copy.label = r.label;
  if (r.raw !== undefined) copy.raw = r.raw;
  return copy;
}

/** The record with its own copy of the value, so it does not pin the source's fetch buffer. */
function detached(record: RawRecord): RawRecord {
  return withValue(record, record.value === null ? null : Buffer.from(record.value));
}

/**
 * One destination table's part of a batch: the records that become its rows, the records
 * that became error rows (for its error table). Knows how to turn itself into insert
 * bodies; does no I/O.
 */
export class TableBatch {
  /** Records that are (still) meant to become rows, in source order. */
  records: RawRecord[] = [];
  /**
   * Mapped rows parallel to `records`, each a view of its JSON line in the body: rows are
   * serialised as they arrive, so a batch holds its data once. Empty while passing through.
   */
  rows: Buffer[] = [];
  readonly errors: BatchError[] = [];
  /** The insert body (passed-through records or mapped rows), built as records arrive. */
  private body = new BodyWriter();

  constructor(
    readonly table: string,
    private readonly pipe: string,
    private readonly mapper: RecordMapper,
    private readonly decode: Decoder,
    /** Records go to ClickHouse as their own bytes until ClickHouse refuses the batch. */
    public passthrough: boolean,
  ) {}

  /** Passed-through records are frames ClickHouse decodes (concatenated, no newline), not JSON lines. */
  frames: FrameFormat | undefined;

  /** Pass records through as frames in this format (set before the first record is added). */
  withFrames(frames: FrameFormat | undefined): this {
    this.frames = frames;
    return this;
  }

  add(record: RawRecord, looksValid: (value: Buffer | null) => boolean): void {
    if (this.passthrough && this.frames !== undefined) {
      this.addFrame(record, this.frames);
      return;
    }
    if (this.passthrough && looksValid(record.value)) {
      this.records.push(this.append(record, record.value as Buffer));
      return;
    }
    this.mapOne(detached(record), this.records, this.rows);
  }

  /**
   * Copy a record into the body, virtual columns spliced in after its opening brace.
   * Without virtual columns the record keeps a view of its bytes in the body (one copy in all).
   */
  private append(record: RawRecord, value: Buffer): RawRecord {
    if (this.frames !== undefined) return withValue(record, this.body.write(value));
    const members = this.mapper.virtualMembers(record);
    if (members === "" && LineRecord.fits(record)) {
      const start = this.body.copyLine(value);
      return new LineRecord(record, this.body.chunk, start, start + value.length);
    }
    if (members === "") return withValue(record, this.body.writeLine(value));
    const open = value.indexOf(0x7b) + 1;
    let next = open;
    while (next < value.length && isBlank(value[next])) next++;
    this.body.write(value.subarray(0, open));
    this.body.writeString(value[next] === 0x7d ? members.slice(0, -1) : members);
    this.body.write(value.subarray(open));
    this.body.write(NEWLINE);
    return detached(record);
  }

  /**
   * A frame ClickHouse can decode goes into the body as it is. Any other record is the
   * consumer's: one that does not decode becomes its error row here; one that does (rare: the
   * frame check is stricter than the decoder) turns the lane to mapped rows, since JSON lines
   * cannot share a body of frames.
   */
  private addFrame(record: RawRecord, frames: FrameFormat): void {
    if (frames.accepts(record.value)) {
      this.records.push(this.append(record, record.value as Buffer));
      return;
    }
    if (this.decodes(record)) this.switchToMapped();
    this.mapOne(detached(record), this.records, this.rows);
  }

  private decodes(record: RawRecord): boolean {
    try {
      this.decode(record.value);
      return true;
    } catch (err) {
      // mapOne decodes it again and records why it fails as the record's error row.
      void err;
      return false;
    }
  }

  /** The passed-through records did not go in as they are: map each one, keeping the bad ones aside. */
  switchToMapped(): void {
    const passedThrough = this.records;
    this.records = [];
    this.rows = [];
    this.passthrough = false;
    this.body = new BodyWriter();
    for (const record of passedThrough) this.mapOne(record, this.records, this.rows);
  }

  addError(record: RawRecord, errorType: string, message: string, now: number): void {
    this.errors.push({
      stream: record.stream,
      row: {
        time: chTime(now),
        pipe: this.pipe,
        error_type: errorType,
        message,
        raw_message: rawMessage(record.raw ?? record.value),
        source_position: formatPosition(record),
      },
    });
  }

  /** The whole body, as chunks. */
  insertBody(): Buffer[] {
    return this.body.finish();
  }

  /** Mapped rows [from, to) as a body, for finding the rows ClickHouse refuses. */
  rowsBody(from: number, to: number): Buffer[] {
    return from === 0 && to === this.rows.length ? this.body.finish() : this.rows.slice(from, to);
  }

  /**
   * The body of records [from, to) but those in `skip` (exactly-once: already in the
   * table). Passed-through records are copied again as they were appended; mapped rows are
   * their own lines.
   */
  bodyWithout(from: number, to: number, skip: ReadonlySet<RawRecord>): Buffer[] {
    if (!this.passthrough) return this.rows.slice(from, to).filter((_, i) => !skip.has(this.records[from + i] as RawRecord));
    const kept = this.records.slice(from, to).filter((r) => !skip.has(r));
    const writer = this.body;
    this.body = new BodyWriter();
    // The records keep pointing at the original body, which stays whole for a later switchToMapped.
    for (const r of kept) this.append(r, r.value as Buffer);
    const body = this.body.finish();
    this.body = writer;
    return body;
  }

  errorRows(): ErrorRow[] {
    return this.errors.map((e) => e.row);
  }

  /** The batch is committed: its body's memory goes to the next batches (no record or row view is read after this). */
  release(): void {
    this.body.release();
  }

  private mapOne(record: RawRecord, records: RawRecord[], rows: Buffer[]): void {
    try {
      const row: MappedRow = this.mapper.map(record, this.decode(record.value));
      rows.push(this.body.writeStringLine(JSON.stringify(row)));
      records.push(record);
    } catch (err) {
      const type = err instanceof RecordError ? err.errorType : ErrorType.type;
      this.addError(record, type, errorMessage(err), Date.now());
    }
  }
}
