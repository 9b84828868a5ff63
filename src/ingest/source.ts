/**
 * What the ingest core knows of a source: records with opaque positions, and the calls a
 * source makes into the core. Nothing here is specific to one source kind; the plugins
 * under src/sources/ implement it.
 */

/** One record as the source delivered it, before decoding. Buffers are views; do not mutate. */
export interface RawRecord {
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  /** When the source saw the record (broker timestamp, arrival time, commit time), ms since the epoch. */
  readonly timestamp: number;
  /**
   * The ordered stream the record belongs to, as the source names it: Kafka `topic/partition`,
   * a Kinesis shard, a file, a replication slot. Positions are compared only within a stream.
   */
  readonly stream: string;
  /** Where the record sits in its stream (Kafka offset, sequence number, line, LSN), opaque to the core. */
  readonly position: string;
  /** Source-specific details its virtual columns read (Kafka: topic, partition, headers). */
  readonly meta?: unknown;
  /** Destination table, for sources that write many (CDC); absent: the pipe's one table. */
  readonly table?: string;
  /** Change kind for CDC sources; absent for append-only sources. */
  readonly op?: "insert" | "update" | "delete";
  /** How the error table writes this record's position when the source has its own notation (object storage: `file:line`); default `stream/position`. */
  readonly label?: string;
  /** The bytes as the source held them, kept in the error table when `value` is a conversion of them (a CSV line given as JSON). */
  readonly raw?: Buffer;
  /**
   * The source already knows this record cannot become a row (a CDC value that does not fit
   * its column): it goes to the error table with this message and its `raw` bytes, uninserted.
   */
  readonly error?: { readonly type: string; readonly message: string };
}

/**
 * A position to make durable: every record of `stream` up to and including `position` is in
 * ClickHouse. Kafka turns it into a committed offset; sources whose positions live in the
 * checkpoint store read it back with `CheckpointStore.load`.
 */
export interface Checkpoint {
  readonly stream: string;
  readonly position: string;
}

/** Phases a source may report while running (the pipe's status phase follows them). */
export type SourcePhase = "Snapshot" | "Running";

/** What a source hands records to. Awaiting it is the backpressure: the source fetches no more until it resolves. */
export interface RecordSink {
  /** New records, in source order per stream. */
  onRecords(records: readonly RawRecord[]): Promise<void>;
  /**
   * Positions that advanced without records to insert (a file with no rows, a closed
   * shard, a CDC keep-alive): made durable with the next batch, like a record's.
   */
  onProgress(checkpoints: readonly Checkpoint[]): Promise<void>;
  /**
   * Streams were reassigned and the source will re-deliver from the last durable position:
   * records held but not yet committed must be dropped (they come again).
   */
  onReset(): void;
  /** The source entered a phase (Snapshot while an initial load runs, then Running). */
  onPhase(phase: SourcePhase): void;
  /**
   * A one-shot source delivered everything it ever will: the core inserts and commits what
   * it holds, then marks the pipe Completed.
   */
  onEnd(): Promise<void>;
  /**
   * CDC: the source created or altered these destination tables (a column added at the
   * source, a table mapping added): insert and commit what is held, then map records to the
   * tables' columns as they are now. Resolves once records of the new shape may be sent.
   * Optional: sinks that never see schema changes need not implement it.
   */
  onTablesChanged?(tables: readonly string[]): Promise<void>;
  /**
   * The source has handed over everything its streams held when it last looked (no lag).
   * The tail of a backlog goes in now rather than at the wait limit (`flushWhenCaughtUp`).
   * Optional on both sides: a source that cannot tell never calls it.
   */
  onCaughtUp?(): Promise<void>;
  /**
   * Resolves once every batch that was full or due when called is inserted and committed
   * (or has failed): a source delivering exactly-once waits for it before reading what its
   * table holds, and before giving streams up in a rebalance.
   */
  settled?(): Promise<void>;
  /**
   * A unit of data (an object storage file) that ClickHouse moves into a destination table
   * with one statement, under the batches' rules: what the sink holds is committed first;
   * a system error is retried with backoff (a DESTINATION_ERROR row while it lasts); then
   * one state row for the stream (rows, bytes, position) and the commit. Optional: sinks
   * without it take records only.
   */
  onBulk?(bulk: BulkInsert): Promise<BulkResult>;
  /** A system error of the source that does not stop it (a file skipped): a SOURCE_ERROR row in clickpipes_log. */
  onSourceError?(message: string): void;
}

/** The destination a bulk statement writes: its quoted name and columns. */
export interface BulkTarget {
  /** `db`.`table`, quoted. */
  readonly table: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

export interface BulkStatement {
  readonly query: string;
  readonly params?: Readonly<Record<string, string>>;
}

export interface BulkInsert {
  readonly stream: string;
  /** The stream's position once the statement succeeded. */
  readonly position: string;
  /** Destination table; absent: the pipe's first. */
  readonly table?: string;
  /**
   * The statement for the target (`INSERT INTO t SELECT ... FROM s3(...)`, or `INSERT INTO t
   * FORMAT f` with `body`) and the values of its `{name:Type}` placeholders: secrets go there,
   * never into the statement's text.
   */
  statement(target: BulkTarget): BulkStatement;
  readonly settings?: Readonly<Record<string, string | number>>;
  /** Data sent with the statement, opened afresh for each attempt. */
  readonly body?: () => Promise<NodeJS.ReadableStream>;
  /** HTTP headers of the request (Content-Encoding of a compressed body). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Source bytes the statement moves, for the state row. */
  readonly bytes: number;
  /**
   * When ClickHouse refuses the data: `return` it to the source (nothing committed), or
   * `skip`: a system error row naming the stream, and `skippedPosition` committed.
   */
  readonly onRefused: "return" | "skip";
  readonly skippedPosition?: string;
}

export type BulkResult =
  | { readonly status: "inserted"; readonly rows: number }
  | { readonly status: "refused" | "skipped"; readonly message: string };

/** The contract every source implements. */
export interface Source {
  /** Connect and start delivering; resolves once delivering has started. */
  start(sink: RecordSink): Promise<void>;
  /** Stop handing records over; resolves once the hand-over in progress (if any) has returned. */
  stopDelivering(): Promise<void>;
  /** Positions whose records are safely in ClickHouse (and in the checkpoint store). */
  commit(checkpoints: readonly Checkpoint[]): Promise<void>;
  /** The source-side backlog per stream, in the plugin's lag unit. */
  lag(): Promise<Map<string, number>>;
  /** Stop and release everything (leave the group, close connections). */
  close(): Promise<void>;
  /**
   * Exactly-once sources only: which of `records` (one table's, from one batch) are already
   * in `table`. Asked before an insert is retried after a failure that may have happened
   * after ClickHouse took the rows (a connection lost mid-answer), so no retry doubles them.
   */
  landed?(table: string, records: readonly RawRecord[]): Promise<ReadonlySet<RawRecord>>;
}

/** How a record's position is written in the error table: `stream/position` (Kafka: `topic/partition/offset`). */
export function formatPosition(record: Pick<RawRecord, "stream" | "position" | "label">): string {
  return record.label ?? `${record.stream}/${record.position}`;
}
