/**
 * Pure decisions about shards: which replica reads a shard, where a shard starts, and when
 * a child shard may be read (only after its parents are read to their end, so per partition
 * key the order is kept across splits and merges). No I/O here; source.ts acts on them.
 */

/** A shard as ListShards describes it, reduced to what the decisions need. */
export interface ShardInfo {
  readonly id: string;
  /** ParentShardId and AdjacentParentShardId (a merge has two parents, a split one, an original shard none). */
  readonly parents: readonly string[];
  /** True once the shard has an EndingSequenceNumber: it takes no new records (split, merged or scaled away). */
  readonly closed: boolean;
}

/** Position written for a shard read to its end: `END` or `END:<last sequence number>`. */
export const END_MARKER = "END";

export function endPosition(lastSequenceNumber: string | undefined): string {
  return lastSequenceNumber === undefined ? END_MARKER : `${END_MARKER}:${lastSequenceNumber}`;
}

export function isEndPosition(position: string | undefined): boolean {
  return position !== undefined && (position === END_MARKER || position.startsWith(`${END_MARKER}:`));
}

/** The core's stream name of a shard: `<streamName>/<shardId>` (neither can hold '/'). */
export function kinesisStream(streamName: string, shardId: string): string {
  return `${streamName}/${shardId}`;
}

/** The shard id of a stream named by `kinesisStream`, or undefined for another stream. */
export function shardOfStream(streamName: string, stream: string): string | undefined {
  const prefix = `${streamName}/`;
  return stream.startsWith(prefix) ? stream.slice(prefix.length) : undefined;
}

/** FNV-1a, for shard ids without the usual numeric suffix. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The replica index that reads a shard. It depends on the shard id and the replica count
 * only, never on the current shard list, so two replicas that list shards at different
 * moments (during a reshard) still agree and no shard is read by two replicas at once.
 * Kinesis numbers shards in creation order (`shardId-000000000007`), so the number modulo
 * the count spreads both the original shards and the children of a reshard evenly.
 */
export function shardOwner(shardId: string, replicas: number): number {
  if (replicas <= 1) return 0;
  const digits = /(\d+)$/.exec(shardId)?.[1];
  if (digits !== undefined && digits.length <= 15) return Number(digits) % replicas;
  return fnv1a(shardId) % replicas;
}

/** The shards replica `index` of `count` reads. */
export function ownedShards<T extends Pick<ShardInfo, "id">>(shards: readonly T[], replica: { index: number; count: number }): T[] {
  return shards.filter((s) => shardOwner(s.id, replica.count) === replica.index);
}

export type InitialIterator = { readonly type: "TRIM_HORIZON" | "LATEST" } | { readonly type: "AT_TIMESTAMP"; readonly timestamp: Date };

/** Where a shard's reading starts. `SKIP`: nothing of it is wanted (a closed shard under LATEST); it counts as finished. */
export type StartAt =
  | { readonly type: "AFTER_SEQUENCE_NUMBER"; readonly sequenceNumber: string }
  | InitialIterator
  | { readonly type: "FINISHED" }
  | { readonly type: "SKIP" };

export interface StartFacts {
  /** The shard's durable position in the checkpoint store, if any. */
  readonly checkpoint: string | undefined;
  /**
   * True when a parent of the shard was read by this pipe (it has a checkpoint, or this
   * process read it): the shard is a child born while the pipe ran, so it starts at its
   * beginning whatever the spec's iterator type says.
   */
  readonly parentRead: boolean;
  /** The spec's iteratorType (with its timestamp) for shards the pipe has never read. */
  readonly initial: InitialIterator;
}

/**
 * Where to start a shard: after its checkpoint; nowhere if the checkpoint says it was read
 * to its end; at TRIM_HORIZON for a child of a shard the pipe read (records between the
 * reshard and now must not be lost); else at the spec's iterator type. Under LATEST a shard
 * already closed holds nothing newer, so it is skipped (and its children start at LATEST).
 */
export function startAt(shard: ShardInfo, facts: StartFacts): StartAt {
  const { checkpoint } = facts;
  if (isEndPosition(checkpoint)) return { type: "FINISHED" };
  if (checkpoint !== undefined) return { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: checkpoint };
  if (facts.parentRead) return { type: "TRIM_HORIZON" };
  if (facts.initial.type === "LATEST" && shard.closed) return { type: "SKIP" };
  return facts.initial;
}

/**
 * A shard may be read once each parent is finished. A parent missing from the shard list
 * has expired from the stream's retention, so there is nothing of it left to wait for.
 */
export function readyToRead(shard: ShardInfo, known: ReadonlySet<string>, finished: (shardId: string) => boolean): boolean {
  return shard.parents.every((p) => !known.has(p) || finished(p));
}
