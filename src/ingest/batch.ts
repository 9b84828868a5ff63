import type { BatchState } from "./batcher.js";
import { type FrameFormat, framesFit } from "./frame-passthrough.js";
import { ErrorType } from "./errors.js";
import type { RecordMapper } from "./mapper.js";
import type { StateRow } from "./sink.js";
import { chTime } from "./sink.js";
import type { Checkpoint, RawRecord } from "./source.js";
import { type Decoder, TableBatch } from "./table-batch.js";

export type { Decoder } from "./table-batch.js";

/** Where records go: one mapper per destination table; records without a table go to the first. */
export interface Routes {
  readonly tables: ReadonlyMap<string, RecordMapper>;
  readonly defaultTable: string;
  readonly decode: Decoder;
  /** Whether records may go to ClickHouse as their own JSON bytes (JSONEachRow sources). */
  readonly passthrough: boolean;
  /** Passed-through records are frames in this format, not JSON lines (frame-passthrough.ts). */
  readonly frames?: FrameFormat;
}

interface StreamTotals {
  records: number;
  bytes: number;
}

/**
 * One batch being filled, across every destination table of the pipe: its records per table,
 * the last position of each stream it covers (with records or only progress), and the
 * per-stream counters of its state rows. A batch is inserted and committed as a whole.
 */
export class Batch implements BatchState {
  readonly lanes = new Map<string, TableBatch>();
  recordCount = 0;
  bytes = 0;
  openedAt: number | undefined;
  private readonly last = new Map<string, string>();
  private readonly totals = new Map<string, StreamTotals>();
  /** The stream of the previous record and its totals: records come in runs of one stream, so most adds skip the map lookup. */
  private runStream: string | undefined;
  private runTotals: StreamTotals = { records: 0, bytes: 0 };

  constructor(
    private readonly pipe: string,
    private readonly routes: Routes,
  ) {}

  add(record: RawRecord, now: number, looksValid: (value: Buffer | null) => boolean): void {
    this.openedAt ??= now;
    this.recordCount++;
    const size = record.value?.length ?? 0;
    this.bytes += size;
    this.last.set(record.stream, record.position);
    if (record.stream !== this.runStream) {
      this.runStream = record.stream;
      let total = this.totals.get(record.stream);
      if (total === undefined) this.totals.set(record.stream, (total = { records: 0, bytes: 0 }));
      this.runTotals = total;
    }
    this.runTotals.records++;
    this.runTotals.bytes += size;
    const table = record.table ?? this.routes.defaultTable;
    const lane = this.lane(table);
    if (lane !== undefined && record.error !== undefined) {
      lane.addError(record, record.error.type, record.error.message, now);
      return;
    }
    if (lane !== undefined) {
      lane.add(record, looksValid);
      return;
    }
    // A record for a table the pipe does not write: kept, with why, beside the pipe's first table.
    const fallback = this.lane(this.routes.defaultTable) as TableBatch;
    fallback.addError(record, ErrorType.route, `no destination table "${table}" in this pipe (tables: ${[...this.routes.tables.keys()].join(", ")})`, now);
  }

  /** A position reached without records: committed with this batch. */
  progress(checkpoint: Checkpoint, now: number): void {
    this.openedAt ??= now;
    this.last.set(checkpoint.stream, checkpoint.position);
  }

  /** True when there is nothing to insert or commit. */
  get empty(): boolean {
    return this.last.size === 0;
  }

  /** Every table's part, in the order tables were first seen. */
  tableBatches(): TableBatch[] {
    return [...this.lanes.values()];
  }

  errorCount(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.errors.length;
    return n;
  }

  checkpoints(): Checkpoint[] {
    return [...this.last].map(([stream, position]) => ({ stream, position }));
  }

  /** One state row per stream with this batch's deltas and the stream's last position. */
  stateRows(lag: ReadonlyMap<string, number>, now: number): StateRow[] {
    const errorsByStream = new Map<string, number>();
    for (const lane of this.lanes.values()) for (const e of lane.errors) errorsByStream.set(e.stream, (errorsByStream.get(e.stream) ?? 0) + 1);
    return [...this.last].map(([stream, position]) => {
      const total = this.totals.get(stream) ?? { records: 0, bytes: 0 };
      const errors = errorsByStream.get(stream) ?? 0;
      return {
        pipe: this.pipe,
        source_position: stream,
        rows: total.records - errors,
        bytes: total.bytes,
        record_errors: errors,
        batches: 1,
        position,
        lag: lag.get(stream) ?? 0,
        last_insert_time: chTime(now),
      };
    });
  }

  private lane(table: string): TableBatch | undefined {
    let lane = this.lanes.get(table);
    if (lane !== undefined) return lane;
    const mapper = this.routes.tables.get(table);
    if (mapper === undefined) return undefined;
    // While ClickHouse cannot reach the registry (frame-passthrough.ts FramePause) the consumer decodes: no frames, no passthrough.
    const frames = this.routes.frames?.pause.paused() === true ? undefined : this.routes.frames;
    const passthrough = this.routes.passthrough && (this.routes.frames === undefined || frames !== undefined) && framesFit(frames, mapper);
    lane = new TableBatch(table, this.pipe, mapper, this.routes.decode, passthrough).withFrames(frames);
    this.lanes.set(table, lane);
    return lane;
  }
}
