/**
 * Exactly-once for Kafka without ClickHouse's insert deduplication window
 * (docs/design/exactly-once.md). A batch's rows carry their own identity, `_partition` and
 * `_offset` (and `_topic` when the pipe reads several topics); the checkpoint store holds
 * the last position whose batch is complete (rows, error rows, then the state row). When a
 * partition is (re)assigned, the fence reads that position and the offsets beyond it that
 * are already in the table or its error table (a batch inserted, wholly or partly, by a
 * consumer that died before its state row went in). Re-delivered records at or below the
 * position, or among those offsets, are dropped: what the table holds decides, however many
 * inserts it took meanwhile.
 */
import { quoteIdent } from "../../clickhouse/client.js";
import { errorTableName } from "../../clickhouse/ddl.js";
import { ConfigError } from "../../ingest/errors.js";
import type { RawRecord } from "../../ingest/source.js";
import type { CheckpointStore } from "../plugin.js";
import { parseKafkaStream } from "./stream.js";

/** What one stream already has in ClickHouse beyond (and up to) its checkpoint. */
export interface StreamFence {
  /** The stored position (-1: none). Offsets fit a double exactly (below 2^53). */
  readonly checkpoint: number;
  /** Offsets above the checkpoint already in the table or the error table. */
  readonly landed: ReadonlySet<number>;
}

/** The records still to insert, and the last position of the fetch when it was dropped (to make durable as progress). */
export interface Filtered {
  readonly records: RawRecord[];
  readonly progress: string | undefined;
}

/** Pure: keep the records the table does not hold yet; records come in offset order. */
export function filterLanded(records: readonly RawRecord[], fence: StreamFence): Filtered {
  let kept: RawRecord[] | undefined;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RawRecord;
    const offset = Number(r.position);
    const drop = offset <= fence.checkpoint || fence.landed.has(offset);
    if (drop && kept === undefined) kept = records.slice(0, i);
    else if (!drop && kept !== undefined) kept.push(r);
  }
  if (kept === undefined) return { records: records as RawRecord[], progress: undefined };
  const last = records.at(-1);
  const lastDropped = last !== undefined && kept.at(-1) !== last;
  return { records: kept, progress: lastDropped ? last.position : undefined };
}

export interface FenceTarget {
  readonly database: string;
  readonly table: string;
  /** `<namespace>/<name>`, as state and error rows name the pipe. */
  readonly pipe: string;
  readonly topics: readonly string[];
}

/** Loads and caches the fence of each assigned stream; reset at every group (re)join. */
export class ExactlyOnceFence {
  private readonly fences = new Map<string, StreamFence>();
  private withTopic = false;

  constructor(
    private readonly store: CheckpointStore,
    private readonly target: FenceTarget,
  ) {}

  /** The destination table must carry the records' identity; a ConfigError names what is missing. */
  async check(): Promise<void> {
    const rows = await this.select<{ name: string }>(
      "SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String}",
      { db: this.target.database, table: this.target.table },
    );
    const names = new Set(rows.map((r) => r.name));
    const needed = ["_partition", "_offset", ...(this.target.topics.length > 1 ? ["_topic"] : [])];
    const missing = needed.filter((n) => !names.has(n));
    if (missing.length > 0) {
      throw new ConfigError(
        `spec.settings.exactlyOnce needs the columns ${needed.join(", ")} in ${this.target.database}.${this.target.table} ` +
          `(each row's position is how a restarted consumer knows what is in); missing: ${missing.join(", ")}`,
        { table: this.target.table, missing },
      );
    }
    this.withTopic = names.has("_topic");
  }

  reset(): void {
    this.fences.clear();
  }

  get(stream: string): StreamFence | undefined {
    return this.fences.get(stream);
  }

  /** Reads the stream's checkpoint and what lies beyond it in the table and its error table. */
  async load(stream: string, topic: string, partition: number): Promise<StreamFence> {
    const stored = (await this.store.load()).get(stream);
    const checkpoint = stored === undefined ? -1 : Number(stored);
    const { database, table, pipe } = this.target;
    const topicFilter = this.withTopic ? " AND _topic = {topic:String}" : "";
    const rows = await this.select<{ o: string }>(
      `SELECT toString(_offset) AS o FROM ${quoteIdent(database)}.${quoteIdent(table)} WHERE _partition = {partition:Int64} AND _offset > {after:Int64}${topicFilter}`,
      { partition, after: checkpoint, topic },
    );
    const prefix = `${stream}/`;
    const errors = await this.select<{ p: string }>(
      `SELECT source_position AS p FROM ${quoteIdent(database)}.${quoteIdent(errorTableName(table))} WHERE pipe = {pipe:String} AND startsWith(source_position, {prefix:String})`,
      { pipe, prefix },
    );
    const landed = new Set(rows.map((r) => Number(r.o)));
    for (const e of errors) {
      const offset = Number(e.p.slice(prefix.length));
      if (offset > checkpoint) landed.add(offset);
    }
    const fence = { checkpoint, landed };
    this.fences.set(stream, fence);
    return fence;
  }

  /** Which of `records` (one batch's, offset order per stream) are in the table: asked before retrying a failed insert. */
  async landed(records: readonly RawRecord[]): Promise<ReadonlySet<RawRecord>> {
    const ranges = new Map<string, { topic: string; partition: number; from: number; to: number }>();
    for (const r of records) {
      const offset = Number(r.position);
      const range = ranges.get(r.stream);
      if (range === undefined) ranges.set(r.stream, { ...parseKafkaStream(r.stream), from: offset, to: offset });
      else range.to = Math.max(range.to, offset);
    }
    const params: Record<string, unknown> = {};
    const conditions = [...ranges.values()].map((range, i) => {
      Object.assign(params, { [`t${i}`]: range.topic, [`p${i}`]: range.partition, [`a${i}`]: range.from, [`b${i}`]: range.to });
      const topic = this.withTopic ? ` AND _topic = {t${i}:String}` : "";
      return `(_partition = {p${i}:Int64} AND _offset BETWEEN {a${i}:Int64} AND {b${i}:Int64}${topic})`;
    });
    const { database, table } = this.target;
    const rows = await this.select<{ t: string; p: number; o: string }>(
      `SELECT ${this.withTopic ? "_topic" : "''"} AS t, toInt64(_partition) AS p, toString(_offset) AS o FROM ${quoteIdent(database)}.${quoteIdent(table)} WHERE ${conditions.join(" OR ")}`,
      params,
    );
    // Without a _topic column the pipe reads one topic: partition and offset name a record.
    const key = (topic: string, partition: number, offset: string): string => `${this.withTopic ? topic : ""}/${partition}/${offset}`;
    const present = new Set(rows.map((r) => key(r.t, r.p, r.o)));
    return new Set(
      records.filter((r) => {
        const { topic, partition } = parseKafkaStream(r.stream);
        return present.has(key(topic, partition, r.position));
      }),
    );
  }

  private select<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    if (this.store.select === undefined) throw new ConfigError("spec.settings.exactlyOnce needs a checkpoint store that can read the destination");
    return this.store.select<T>(query, params);
  }
}
