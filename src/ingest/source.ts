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
}

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
}

/** How a record's position is written in the error table: `stream/position` (Kafka: `topic/partition/offset`). */
export function formatPosition(record: Pick<RawRecord, "stream" | "position">): string {
  return `${record.stream}/${record.position}`;
}
