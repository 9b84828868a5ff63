import type { BatchState } from "./batcher.js";
import type { DecodedRecord } from "./decoders/json.js";
import { ErrorType, RecordError, errorMessage } from "./errors.js";
import type { MappedRow, RecordMapper } from "./mapper.js";
import type { ErrorRow, StateRow } from "./sink.js";
import { chTime } from "./sink.js";
import { type Checkpoint, type RawRecord, formatPosition, positionKey } from "./source.js";

export type Decoder = (bytes: Buffer | null) => DecodedRecord;

interface BatchError {
  readonly key: string;
  readonly row: ErrorRow;
}

const NEWLINE = Buffer.from("\n");

/**
 * One batch being filled: the records that become rows, the records that became error
 * rows, and the positions they cover. Knows how to turn itself into insert bodies; does
 * no I/O.
 */
export class Batch implements BatchState {
  /** Records that are (still) meant to become rows, in source order. */
  records: RawRecord[] = [];
  /** Mapped rows parallel to `records`; empty while the batch passes records through. */
  rows: MappedRow[] = [];
  readonly errors: BatchError[] = [];
  bytes = 0;
  openedAt: number | undefined;
  private readonly last = new Map<string, RawRecord>();
  private readonly totals = new Map<string, { records: number; bytes: number }>();

  constructor(
    private readonly pipe: string,
    private readonly mapper: RecordMapper,
    private readonly decode: Decoder,
    /** Records go to ClickHouse as their own bytes until ClickHouse refuses the batch. */
    public passthrough: boolean,
  ) {}

  /** Records taken in, rows and error rows alike: both are inserted, both count toward the row limit. */
  recordCount = 0;

  add(record: RawRecord, now: number, looksValid: (value: Buffer | null) => boolean): void {
    this.openedAt ??= now;
    this.recordCount++;
    const size = record.value?.length ?? 0;
    this.bytes += size;
    const key = positionKey(record.position);
    this.last.set(key, record);
    const total = this.totals.get(key) ?? { records: 0, bytes: 0 };
    total.records++;
    total.bytes += size;
    this.totals.set(key, total);
    if (this.passthrough && looksValid(record.value)) {
      this.records.push(record);
      return;
    }
    this.mapOne(record, this.records, this.rows);
  }

  /** The passed-through records did not go in as they are: map each one, keeping the bad ones aside. */
  switchToMapped(): void {
    const records: RawRecord[] = [];
    const rows: MappedRow[] = [];
    for (const record of this.records) this.mapOne(record, records, rows);
    this.records = records;
    this.rows = rows;
    this.passthrough = false;
  }

  addError(record: RawRecord, errorType: string, message: string, now: number): void {
    this.errors.push({
      key: positionKey(record.position),
      row: {
        time: chTime(now),
        pipe: this.pipe,
        error_type: errorType,
        message,
        raw_message: record.value === null ? "" : record.value.toString("utf8"),
        source_position: formatPosition(record.position),
      },
    });
  }

  passthroughBody(): Buffer {
    const chunks: Buffer[] = [];
    for (const record of this.records) {
      const value = record.value as Buffer;
      const members = this.mapper.virtualMembers(record);
      if (members === "") {
        chunks.push(value, NEWLINE);
        continue;
      }
      const open = value.indexOf(0x7b) + 1;
      let next = open;
      while (next < value.length && (value[next] === 0x20 || value[next] === 0x0a || value[next] === 0x0d || value[next] === 0x09)) next++;
      const spliced = value[next] === 0x7d ? members.slice(0, -1) : members;
      chunks.push(value.subarray(0, open), Buffer.from(spliced), value.subarray(open), NEWLINE);
    }
    return Buffer.concat(chunks);
  }

  errorRows(): ErrorRow[] {
    return this.errors.map((e) => e.row);
  }

  checkpoints(): Checkpoint[] {
    return [...this.last.values()].map((r) => ({
      topic: r.position.topic,
      partition: r.position.partition,
      nextOffset: (BigInt(r.position.offset) + 1n).toString(),
    }));
  }

  /** One state row per topic/partition with this batch's deltas. */
  stateRows(lag: ReadonlyMap<string, number>, now: number): StateRow[] {
    const errorsByKey = new Map<string, number>();
    for (const e of this.errors) errorsByKey.set(e.key, (errorsByKey.get(e.key) ?? 0) + 1);
    return [...this.last.entries()].map(([key, record]) => {
      const total = this.totals.get(key) ?? { records: 0, bytes: 0 };
      const errors = errorsByKey.get(key) ?? 0;
      return {
        pipe: this.pipe,
        source_position: key,
        rows: total.records - errors,
        bytes: total.bytes,
        record_errors: errors,
        batches: 1,
        position: record.position.offset,
        lag: lag.get(key) ?? 0,
        last_insert_time: chTime(now),
      };
    });
  }

  private mapOne(record: RawRecord, records: RawRecord[], rows: MappedRow[]): void {
    try {
      rows.push(this.mapper.map(record, this.decode(record.value)));
      records.push(record);
    } catch (err) {
      const type = err instanceof RecordError ? err.errorType : ErrorType.type;
      this.addError(record, type, errorMessage(err), Date.now());
    }
  }
}

/** JSONEachRow body of mapped rows. */
export function rowsBody(rows: readonly MappedRow[]): Buffer {
  let text = "";
  for (const row of rows) text += JSON.stringify(row) + "\n";
  return Buffer.from(text);
}
