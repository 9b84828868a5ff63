/**
 * The Postgres CDC source of one consumer (one reader per slot). A session connects,
 * makes sure of the publication and slot, runs the initial load of the tables not yet
 * loaded, then streams the slot; a lost connection (Postgres restarted) ends the session
 * and a new one resumes from the checkpoint store and the slot's confirmed position.
 */
import pg from "pg";
import type { ClickPipe } from "../../api/index.js";
import type { SqlRunner } from "../../clickhouse/client.js";
import { SourceError, errorMessage, isRetriable } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import { retry } from "../../ingest/retry.js";
import type { Checkpoint, RawRecord, RecordSink, Source } from "../../ingest/source.js";
import type { CheckpointStore } from "../plugin.js";
import type { TableMapping } from "../cdc/model.js";
import { requestedResync, RESYNC_STREAM, resyncStage } from "../cdc/resync-plan.js";
import { snapshotDone } from "../cdc/snapshot-plan.js";
import type { SshTunnel } from "../cdc/ssh-tunnel.js";
import { TxApplier } from "./apply.js";
import { resolveType, type PgTable } from "./catalog.js";
import { connectVia, type PgEndpoint, postgresSpec, type ReplicationNames, replicationNames } from "./config.js";
import { SlotReader } from "./replication.js";
import { runResync } from "./resync.js";
import type { TableState } from "./rows.js";
import { encodeColumns, schemaStream } from "./schema-store.js";
import { createSlot, ensurePublication, slotExists, slotWal, type CreatedSlot } from "./slot.js";
import { runSnapshot } from "./snapshot.js";
import { mappingsOf, readMapped, tableStates } from "./tables.js";
import { TransactionAssembler } from "./transactions.js";

export interface PostgresSourceOptions {
  readonly pipe: ClickPipe;
  readonly endpoint: PgEndpoint;
  readonly checkpoints: CheckpointStore;
  readonly clickhouse: SqlRunner | undefined;
  readonly logger: Logger;
  readonly onFatal: (err: Error) => void;
  readonly signal: AbortSignal;
}

/** The checkpoint-store stream of the slot's position. */
export function slotStream(slot: string): string {
  return `slot/${slot}`;
}

interface Session {
  control: pg.Client;
  tunnel?: SshTunnel | undefined;
  config: pg.ClientConfig;
}

export class PostgresCdcSource implements Source {
  private readonly names: ReplicationNames;
  private readonly stop = new AbortController();
  private reader: SlotReader | undefined;
  private session: Session | undefined;
  private running: Promise<void> | undefined;
  /** Serialises hand-overs: snapshot workers run in parallel, the sink takes one call at a time. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: PostgresSourceOptions) {
    this.names = replicationNames(opts.pipe);
  }

  private get spec(): ReturnType<typeof postgresSpec> {
    return postgresSpec(this.opts.pipe.spec);
  }

  async start(sink: RecordSink): Promise<void> {
    await this.connect();
    this.running = this.loop(sink);
  }

  private async connect(): Promise<Session> {
    const via = await connectVia(this.opts.endpoint);
    const control = new pg.Client(via.config);
    try {
      await control.connect();
    } catch (err) {
      await via.tunnel?.close();
      throw new SourceError(`cannot connect to Postgres ${this.spec.host}:${this.spec.port}/${this.spec.database}: ${errorMessage(err)}`, { retriable: true, cause: err });
    }
    control.on("error", (err) => this.opts.logger.warn({ err: err.message }, "Postgres control connection lost"));
    this.session = { control, tunnel: via.tunnel, config: via.config };
    return this.session;
  }

  /** Sessions until stopped; a retriable failure starts a new one after a backoff, anything else is fatal. */
  private async loop(sink: RecordSink): Promise<void> {
    const signal = AbortSignal.any([this.stop.signal, this.opts.signal]);
    try {
      await retry(
        async (attempt) => {
          if (attempt > 0 || this.session === undefined) await this.connect();
          await this.runSession(sink, this.session as Session, signal);
        },
        {
          initialMs: 1_000,
          maxMs: 15_000,
          signal,
          retriable: isRetriable,
          onRetry: (err, attempt) => {
            sink.onSourceError?.(`Postgres session ended, reconnecting: ${errorMessage(err)}`);
            this.opts.logger.warn({ err: errorMessage(err), attempt }, "Postgres session ended, reconnecting");
            void this.closeSession();
          },
        },
      );
    } catch (err) {
      if (!signal.aborted) this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private deliver(sink: RecordSink): (records: readonly RawRecord[]) => Promise<void> {
    return (records) => {
      const next = this.chain.then(() => sink.onRecords(records));
      this.chain = next.catch(() => undefined);
      return next;
    };
  }

  private progress(sink: RecordSink): (stream: string, position: string) => Promise<void> {
    return (stream, position) => {
      const next = this.chain.then(() => sink.onProgress([{ stream, position }]));
      this.chain = next.catch(() => undefined);
      return next;
    };
  }

  /** One session: publication, slot, initial load of what is not loaded, then replication until the connection fails. */
  private async runSession(sink: RecordSink, session: Session, signal: AbortSignal): Promise<void> {
    const mode = this.spec.settings.replicationMode;
    const mappings = mappingsOf(this.spec);
    const tables = await readMapped(session.control, mappings);
    if (mode !== "snapshot") await ensurePublication(session.control, this.names, mappings);
    const checkpoints = await this.resyncIfAsked(sink, session, tables, await this.opts.checkpoints.load(), signal);
    const states = tableStates(this.opts.pipe.spec.destination.database, tables, checkpoints);
    const toLoad = mode === "cdc_only" ? [] : [...states.values()].filter((s) => !snapshotDone(s.mapping.targetTable, checkpoints));
    let created: CreatedSlot | undefined;
    if (mode !== "snapshot" && !(await slotExists(session.control, this.names.slot))) {
      created = await createSlot(session.config, this.names.slot, toLoad.length > 0);
      this.opts.logger.info({ slot: this.names.slot, consistentPoint: created.consistentPoint }, "replication slot created");
    }
    try {
      if (toLoad.length > 0) await this.snapshot(sink, toLoad, checkpoints, created?.snapshotName ?? (await this.exportedSnapshot(session, mode)), signal);
    } finally {
      await created?.connection.end().catch(() => undefined);
    }
    if (mode === "snapshot") {
      await this.chain;
      await sink.onEnd();
      return;
    }
    await this.replicate(sink, session, states, checkpoints.get(slotStream(this.names.slot)) ?? created?.consistentPoint ?? "0/0", signal);
  }

  /** The resync the operator asked for (src/sources/postgres/resync.ts), unless done; returns the checkpoints as they are after it. */
  private async resyncIfAsked(sink: RecordSink, session: Session, tables: ReadonlyMap<TableMapping, PgTable>, checkpoints: ReadonlyMap<string, string>, signal: AbortSignal): Promise<ReadonlyMap<string, string>> {
    const id = requestedResync(this.opts.pipe);
    if (id === undefined || this.spec.settings.replicationMode === "snapshot" || resyncStage(id, checkpoints.get(RESYNC_STREAM)) === "done") return checkpoints;
    const clickhouse = this.opts.clickhouse;
    if (clickhouse === undefined) throw new SourceError("a resync needs the pipe's ClickHouse connection", { retriable: false });
    await runResync({
      id,
      control: session.control,
      config: session.config,
      slot: this.names.slot,
      slotStream: slotStream(this.names.slot),
      clickhouse,
      database: this.opts.pipe.spec.destination.database,
      tables,
      checkpoints,
      logger: this.opts.logger,
      progress: this.progress(sink),
      flush: async (changed) => {
        await this.chain;
        await sink.onTablesChanged?.(changed);
      },
      snapshot: (states, current, snapshotName) => this.snapshot(sink, states, current, snapshotName, signal),
    });
    return this.opts.checkpoints.load();
  }

  /** Mode snapshot has no slot: a transaction of the control connection exports the snapshot every partition reads. */
  private async exportedSnapshot(session: Session, mode: string): Promise<string | undefined> {
    if (mode !== "snapshot") return undefined;
    await session.control.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    const result = await session.control.query<{ name: string }>("SELECT pg_export_snapshot() AS name");
    return result.rows[0]?.name;
  }

  private async snapshot(sink: RecordSink, toLoad: TableState[], checkpoints: ReadonlyMap<string, string>, snapshotName: string | undefined, signal: AbortSignal): Promise<void> {
    sink.onPhase("Snapshot");
    const s = this.spec.settings;
    await runSnapshot(toLoad, {
      config: (this.session as Session).config,
      snapshotName,
      checkpoints,
      settings: { rowsPerPartition: s.snapshotNumRowsPerPartition, parallelTables: s.snapshotNumberOfParallelTables, parallelism: s.initialLoadParallelism },
      deliver: this.deliver(sink),
      progress: this.progress(sink),
      logger: this.opts.logger,
      signal,
    });
    await this.chain;
    for (const state of toLoad) await this.progress(sink)(schemaStream(state.mapping.targetTable), encodeColumns(state.columns));
  }

  private async replicate(sink: RecordSink, session: Session, states: Map<string, TableState>, from: string, signal: AbortSignal): Promise<void> {
    const version = await session.control.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    const protoVersion = Number(version.rows[0]?.v ?? 0) >= 140000 ? 2 : 1;
    const stream = slotStream(this.names.slot);
    const applier = new TxApplier(
      {
        tables: states,
        stream,
        database: this.opts.pipe.spec.destination.database,
        clickhouse: this.opts.clickhouse,
        resolveType: (oid, typmod) => resolveType(session.control, oid, typmod),
        source: { query: async (text, values) => session.control.query<Record<string, string | null>>(text, values) },
        deliver: this.deliver(sink),
        progress: (position) => this.progress(sink)(stream, position),
        flush: async () => {
          await this.chain;
          await sink.onTablesChanged?.([]);
        },
        tablesChanged: async (tables) => {
          this.opts.logger.info({ tables }, "target tables follow a source schema change");
          await this.chain;
          await sink.onTablesChanged?.(tables);
        },
        saveSchema: (state) => this.progress(sink)(schemaStream(state.mapping.targetTable), encodeColumns(state.columns)),
        warn: (message) => {
          this.opts.logger.warn({ message }, "replication problem");
          sink.onSourceError?.(message);
        },
      },
      from,
    );
    const assembler = new TransactionAssembler();
    const ended = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(new SourceError("stopped", { retriable: false })), { once: true });
      this.reader = new SlotReader({
        config: session.config,
        slot: this.names.slot,
        publication: this.names.publication,
        protoVersion,
        logger: this.opts.logger,
        onMessage: async (lsn, msg) => {
          const tx = assembler.push(lsn, msg);
          if (tx !== undefined) await applier.apply(tx);
        },
        onError: reject,
      });
    });
    await this.reader?.start(from);
    sink.onPhase("Running");
    this.opts.logger.info({ slot: this.names.slot, from, protoVersion }, "replicating");
    await ended;
  }

  async stopDelivering(): Promise<void> {
    this.stop.abort();
    await this.reader?.stop();
    await this.chain;
  }

  async commit(checkpoints: readonly Checkpoint[]): Promise<void> {
    const slot = checkpoints.find((c) => c.stream === slotStream(this.names.slot));
    if (slot !== undefined && /^[0-9A-F]+\/[0-9A-F]+$/i.test(slot.position)) await this.reader?.confirm(slot.position);
  }

  async lag(): Promise<Map<string, number>> {
    const control = this.session?.control;
    if (control === undefined || this.spec.settings.replicationMode === "snapshot") return new Map();
    try {
      const wal = await slotWal(control, this.names.slot);
      return wal === undefined ? new Map() : new Map([[slotStream(this.names.slot), wal.lagBytes]]);
    } catch (err) {
      this.opts.logger.warn({ err: errorMessage(err) }, "cannot read the slot's lag");
      return new Map();
    }
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await this.reader?.stop().catch(() => undefined);
    this.reader = undefined;
    await session?.control.end().catch(() => undefined);
    await session?.tunnel?.close();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
    await this.closeSession();
  }
}
