/**
 * The contract between a source plugin (one folder under src/sources/) and everything else:
 * the ingest core, the CLI and the operator know a source only through this shape, found in
 * the registry by the spec's source kind. Adding a source is adding a folder that exports a
 * `SourcePlugin` and one line in registry.ts.
 */
import type { ClickPipe, ClickPipeSpec, ConditionReason, SecretReference, SourceKind } from "../api/index.js";
import type { SqlRunner } from "../clickhouse/client.js";
import type { FormatOptions } from "../ingest/decoders/dispatch.js";
import type { Logger } from "../ingest/logger.js";
import type { SecretResolver } from "../ingest/secrets.js";
import type { RawRecord, Source } from "../ingest/source.js";

/** How a source measures its backlog: records (Kafka), bytes, or milliseconds behind the tip (Kinesis). */
export type LagUnit = "records" | "bytes" | "ms";

export interface SourceCapabilities {
  /** Most consumer replicas that can share the work; the operator caps spec.scaling.replicas at it. */
  readonly maxReplicas: number;
  /** continuous: runs until stopped; oneShot: delivers a finite set and then the pipe is Completed. */
  readonly mode: "continuous" | "oneShot";
  readonly lagUnit: LagUnit;
  /**
   * Where positions are kept: `source` (Kafka's committed offsets) or `checkpointStore`
   * (the pipe's rows in clickpipes_state, read back with CheckpointStore.load).
   */
  readonly positions: "source" | "checkpointStore";
  /**
   * What a consumer must know of its place among the pipe's replicas. `none`: the source
   * balances the work itself (Kafka's consumer group), so replicas are interchangeable.
   * `index`: the consumers split the work by a stable replica index (`SourceContext.replica`),
   * so each replica needs an index of its own that survives restarts and the count of
   * replicas; the operator then runs them with an ordinal (a StatefulSet) and rolls them all
   * when the count changes.
   */
  readonly replicaIdentity: "none" | "index";
  /**
   * The operator keeps probing this source whatever its consumers report: the probe sees
   * what they cannot (a CDC slot's retained WAL on the source's disk). Default: false.
   */
  readonly watchedByProbe?: boolean;
  /**
   * The source records each finished file in `<table>_clickpipes_archive` (object storage):
   * the operator and `clickpipes run` create it, and the pipe's user may insert and select
   * it. Its managed table gets a deduplication window for per-file insert tokens. Default: false.
   */
  readonly filesTable?: boolean;
  /**
   * The source reloads its tables on a resync (annotation clickpipes.io/resync): into
   * `<table>_resync`, swapped in when complete. Default: false (the operator refuses the
   * annotation on status).
   */
  readonly resync?: boolean;
}

/** A column a source fills from the record itself rather than from its decoded value (`_offset`, `_key`...). */
export interface VirtualColumn {
  readonly name: string;
  /** The raw value for a column of ClickHouse type `type` (the core coerces it). */
  value(record: RawRecord, type: string): unknown;
}

/** How the record bytes are decoded; the core owns the decoders. */
export interface RecordFormat {
  /** JSONEachRow | AvroConfluent | ... as the spec names it. */
  readonly format: string;
  /** Confluent-API schema registry for AvroConfluent. */
  readonly schemaRegistry?: { readonly url: string; readonly username?: string; readonly password?: string };
  /**
   * Present: the core decodes the record bytes in `format` (Avro, Protobuf, CSV, TabSeparated...)
   * with these settings (src/ingest/decoders/dispatch.ts). Absent: records are JSON objects
   * (a source that converts its rows to JSON itself, as object storage does for CSV files).
   */
  readonly options?: FormatOptions;
}

/** Outcome of the operator's reachability probe. */
export interface SourceProbeResult {
  readonly reachability: { readonly ok: boolean; readonly reason: ConditionReason; readonly message: string };
  /** The backlog in the plugin's lag unit, where the probe can tell. */
  readonly lag?: number;
}

/** Positions the pipe made durable in the checkpoint store (clickpipes_state), per stream. */
export interface CheckpointStore {
  load(): Promise<ReadonlyMap<string, string>>;
  /**
   * Rows of a read-only query against the destination database, with `{name:Type}`
   * parameters: a source delivering exactly-once asks what of a stream is already in its
   * table beyond the stored position (see docs/design/exactly-once.md).
   */
  select?<T>(query: string, params: Record<string, unknown>): Promise<T[]>;
}

/** Everything a plugin gets to open its source in a consumer. */
export interface SourceContext {
  readonly pipe: ClickPipe;
  readonly secrets: SecretResolver;
  readonly logger: Logger;
  readonly checkpoints: CheckpointStore;
  /** This consumer's place among the pipe's replicas (index in [0, count)), for sources that split work themselves. */
  readonly replica: { readonly index: number; readonly count: number };
  /** The source failed for good: the consumer stops (uncommitted records come again). */
  readonly onFatal: (err: Error) => void;
  /** Aborted at shutdown: retry loops inside the source stop waiting. */
  readonly signal: AbortSignal;
  /**
   * The pipe's ClickHouse connection, for sources that shape their own tables (CDC: ALTER on a
   * source schema change, the table swap of a resync). Absent where the core gives none.
   */
  readonly clickhouse?: SqlRunner;
}

/** What a source gets to create the destination tables it shapes itself, before the core checks them. */
export interface DestinationContext {
  readonly pipe: ClickPipe;
  readonly secrets: SecretResolver;
  readonly logger: Logger;
  readonly clickhouse: SqlRunner;
  readonly signal: AbortSignal;
}

export interface SourcePlugin {
  readonly kind: SourceKind;
  /** What the source can do, for this spec (object storage is one-shot or continuous by its settings). */
  capabilities(spec: ClickPipeSpec): SourceCapabilities;
  /** Columns the source fills from the record, by their ClickPipes names. */
  readonly virtualColumns: readonly VirtualColumn[];
  /** Secrets (and their keys) the source reads; the operator mounts them, `validate` checks them. */
  secretReferences(spec: ClickPipeSpec): SecretReference[];
  /** Destination tables the pipe writes: the one `destination.table`, or one per table mapping (CDC). */
  tables(spec: ClickPipeSpec): string[];
  /**
   * Optional: batch limits the source's own settings set (CDC: syncIntervalSeconds as the
   * wait, pullBatchSize as the rows), over the pipe's settings.
   */
  batchLimits?(spec: ClickPipeSpec): { readonly maxRows?: number; readonly maxWaitMs?: number };
  /** How record bytes are decoded. */
  format(spec: ClickPipeSpec, secrets: SecretResolver): RecordFormat;
  /**
   * Reachability (and backlog) from the operator, with the pipe's own credentials. Optional:
   * a plugin without one is reported by its consumers only.
   */
  probe?(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<SourceProbeResult>;
  /**
   * Optional, for sources whose tables follow the source's schema (CDC): creates the tables
   * `tables(spec)` names from the source's description of them (CREATE TABLE IF NOT EXISTS),
   * so the core's check finds them. The core calls it before setting up the destination;
   * a retriable failure (source unreachable) is retried.
   */
  prepareDestination?(ctx: DestinationContext): Promise<void>;
  /**
   * Optional: releases what the pipe created at the source (a CDC replication slot and
   * publication; never objects the user named), called by the operator when the pipe is
   * deleted. Returns what it released, for the event.
   */
  cleanUp?(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<string[]>;
  /**
   * Global privileges the pipe's ClickHouse user needs because ClickHouse reads the source
   * itself (object storage: `S3`, `AZURE`, `URL`); granted ON *.* beside the table grants.
   */
  sourcePrivileges?(spec: ClickPipeSpec): string[];
  /** The source for one consumer. Must not connect yet: `Source.start` does. */
  open(ctx: SourceContext): Source;
}
