/** One message as the source delivered it, before decoding. Buffers are views; do not mutate. */
export interface RawRecord {
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  /** Producer or broker timestamp, ms since the epoch. */
  readonly timestamp: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly position: RecordPosition;
}

/** Where a record sits in the source: Kafka topic, partition and offset (offset as a decimal string, it is an int64). */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A position to commit: everything before `nextOffset` in this topic/partition has been inserted. */
export interface Checkpoint {
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: string;
}

/** What a source hands records to. Awaiting it is the backpressure: the source fetches no more until it resolves. */
export interface RecordSink {
  /** New records, in source order per partition. */
  onRecords(records: readonly RawRecord[]): Promise<void>;
  /**
   * Partitions were reassigned and the source will re-deliver from the last committed
   * position: records held but not yet committed must be dropped (they come again).
   */
  onReset(): void;
}

/** The contract every source implements (Kafka now; Kinesis, object storage, CDC later). */
export interface Source {
  /** Connect and start delivering; resolves once consuming has started. */
  start(sink: RecordSink): Promise<void>;
  /** Commit positions whose records are safely in ClickHouse. */
  commit(checkpoints: readonly Checkpoint[]): Promise<void>;
  /** Records not yet consumed, per `topic/partition` (the source-side backlog). */
  lag(): Promise<Map<string, number>>;
  /** Stop fetching, leave the group, disconnect. */
  close(): Promise<void>;
}

export function positionKey(p: { topic: string; partition: number }): string {
  return `${p.topic}/${p.partition}`;
}

export function formatPosition(p: RecordPosition): string {
  return `${p.topic}/${p.partition}/${p.offset}`;
}
