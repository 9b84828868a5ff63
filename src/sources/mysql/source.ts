/**
 * The MySQL / MariaDB CDC source for one consumer: setup checks, the initial load, then
 * replication from the binlog; positions in the checkpoint store (the core writes them after
 * the rows are in). One consumer per pipe: a binlog is one ordered stream.
 */
import { type Connection, type Pool, createConnection, createPool } from "mysql2/promise";
import type { ConnectionOptions } from "mysql2";
import type { MysqlEndpoint } from "./endpoint.js";
import type { MysqlSource } from "../../api/index.js";
import type { SqlRunner } from "../../clickhouse/client.js";
import { ConfigError, errorMessage } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import type { Checkpoint, RecordSink, Source } from "../../ingest/source.js";
import type { CheckpointStore } from "../plugin.js";
import { type ServerSettings, gtidAvailable, readServerSettings, settingProblems } from "./checks.js";
import { mysqlError } from "./errors.js";
import { type LoadPlan, planLoad, runLoad } from "./initial-load.js";
import { BINLOG_STREAM, decodeBinlogPosition, encodeBinlogPosition } from "./position.js";
import { Replication } from "./replication.js";
import { applySchemaChange } from "./schema-change.js";
import { finishResync, type MysqlResync, prepareResync } from "./resync.js";
import { type TableSchema, readTableSchema, tableKey } from "./schema.js";
import { currentPosition } from "./snapshot.js";

export interface MysqlSourceOptions {
  readonly spec: MysqlSource;
  /** Opens the way to the server (directly, or an SSH tunnel) when the source starts. */
  readonly endpoint: () => Promise<MysqlEndpoint>;
  /** ClickHouse database of the target tables. */
  readonly database: string;
  readonly serverId: number;
  readonly checkpoints: CheckpointStore;
  readonly clickhouse?: SqlRunner;
  readonly logger: Logger;
  readonly onFatal: (err: Error) => void;
  /** The resync the operator asked for (../cdc/resync-plan.ts), if any. */
  readonly resyncId?: string | undefined;
}

/** How replication resumes: the spec's choice, else GTID where the server has GTIDs on. */
export function resumesByGtid(spec: MysqlSource, settings: ServerSettings): boolean {
  const mechanism = spec.settings.replicationMechanism;
  if (mechanism === "filePosition") return false;
  const available = gtidAvailable(settings);
  if (mechanism === "gtid" && !available) throw new ConfigError("spec.source.mysql.settings.replicationMechanism is gtid but the server has gtid_mode OFF: set gtid_mode=ON (and enforce_gtid_consistency=ON), or use filePosition");
  return available;
}

export class MysqlCdcSource implements Source {
  private readonly stopping = new AbortController();
  private delivering = true;
  private chain: Promise<unknown> = Promise.resolve();
  private sink: RecordSink | undefined;
  private replication: Replication | undefined;
  private running: Promise<void> | undefined;
  private pool: Pool | undefined;
  private endpoint: MysqlEndpoint | undefined;

  constructor(private readonly opts: MysqlSourceOptions) {}

  private get connection(): ConnectionOptions {
    if (this.endpoint === undefined) throw new Error("the MySQL source is not started");
    return this.endpoint.connection;
  }

  async start(sink: RecordSink): Promise<void> {
    this.sink = sink;
    this.endpoint ??= await this.opts.endpoint().catch((err: unknown) => {
      throw mysqlError(`open the way to ${this.opts.spec.host}:${this.opts.spec.port}`, err);
    });
    const conn = await createConnection(this.connection).catch((err: unknown) => {
      throw mysqlError(`connect to ${this.opts.spec.host}:${this.opts.spec.port}`, err);
    });
    try {
      const settings = await readServerSettings(conn);
      const problems = settingProblems(settings);
      if (problems.length > 0) throw new ConfigError(`the MySQL server is not set up for CDC: ${problems.join("; ")}`, { host: this.opts.spec.host });
      const byGtid = resumesByGtid(this.opts.spec, settings);
      const schemas = await Promise.all(this.opts.spec.tableMappings.map((m) => readTableSchema(conn, m)));
      const loaded = await this.opts.checkpoints.load();
      const resync = await prepareResync({ id: this.opts.resyncId, spec: this.opts.spec, clickhouse: this.opts.clickhouse, database: this.opts.database, logger: this.opts.logger }, schemas, loaded);
      const stored = resync?.stored ?? loaded;
      const plan = resync === undefined ? await this.plan(conn, settings, byGtid, schemas, stored) : await this.resyncPlan(conn, settings, byGtid, resync);
      this.opts.logger.info({ server: settings.version, byGtid, start: plan.start, loading: plan.tables.map((t) => t.schema.targetTable) }, "MySQL source ready");
      this.running = this.run(plan, byGtid, schemas, stored, resync).catch((err: unknown) => {
        if (this.stopping.signal.aborted) return;
        this.delivering = false;
        this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
      });
    } catch (err) {
      throw err instanceof ConfigError ? err : mysqlError("set up replication", err);
    } finally {
      // Closing a connection that broke can fail too; the outcome that matters is already decided.
      await conn.end().catch(() => undefined);
    }
  }

  async stopDelivering(): Promise<void> {
    this.delivering = false;
    await this.chain;
  }

  /** Positions are in the checkpoint store already (the core wrote them before it commits); the binlog needs no acknowledgement. */
  commit(_checkpoints: readonly Checkpoint[]): Promise<void> {
    return Promise.resolve();
  }

  lag(): Promise<Map<string, number>> {
    return Promise.resolve(new Map(this.replication === undefined ? [] : [[BINLOG_STREAM, this.replication.lagMs()]]));
  }

  async close(): Promise<void> {
    this.delivering = false;
    this.stopping.abort();
    await this.running;
    // Closing a connection that broke can fail too; the outcome that matters is already decided.
    await this.pool?.end().catch(() => undefined);
    await this.endpoint?.close();
  }

  private async plan(conn: Connection, settings: ServerSettings, byGtid: boolean, schemas: readonly TableSchema[], stored: ReadonlyMap<string, string>): Promise<LoadPlan> {
    const { settings: s } = this.opts.spec;
    if (s.replicationMode !== "cdc_only") return planLoad(conn, settings, { byGtid, schemas, stored, load: s });
    const storedStart = stored.get(BINLOG_STREAM);
    if (storedStart !== undefined) return { start: decodeBinlogPosition(storedStart), tables: [], progress: [] };
    const start = await currentPosition(conn, settings, byGtid);
    return { start, tables: [], progress: [{ stream: BINLOG_STREAM, position: encodeBinlogPosition(start) }] };
  }

  /** A resync's load: the fresh tables, from a new consistent snapshot unless one is recorded (then resumed). */
  private async resyncPlan(conn: Connection, settings: ServerSettings, byGtid: boolean, resync: MysqlResync): Promise<LoadPlan> {
    const plan = await planLoad(conn, settings, { byGtid, schemas: resync.schemas, stored: resync.stored, load: this.opts.spec.settings });
    return { ...plan, progress: [...resync.progress, ...plan.progress] };
  }

  private async run(plan: LoadPlan, byGtid: boolean, schemas: readonly TableSchema[], stored: ReadonlyMap<string, string>, resync?: MysqlResync): Promise<void> {
    const sink = this.sink;
    if (sink === undefined) return;
    const { settings } = this.opts.spec;
    if (plan.progress.length > 0) await this.handOver((k) => k.onProgress(plan.progress));
    if (plan.tables.length > 0) {
      sink.onPhase("Snapshot");
      // A resync's fresh tables: the core learns their columns before their first rows.
      if (resync !== undefined) await this.handOver(async (k) => k.onTablesChanged?.(plan.tables.map((t) => t.schema.targetTable)));
      this.pool = createPool({ ...this.connection, connectionLimit: settings.snapshotNumberOfParallelTables * settings.initialLoadParallelism });
      await runLoad(this.pool, plan, { stored, load: settings, handOver: (give) => this.handOver(give), signal: this.stopping.signal });
      await this.pool.end();
      this.pool = undefined;
      this.opts.logger.info({ tables: plan.tables.length }, "initial load handed over");
    }
    if (this.stopping.signal.aborted) return;
    if (resync !== undefined && !(await finishResync(resync, (give) => this.handOver(give)))) return;
    if (settings.replicationMode === "snapshot") {
      await sink.onEnd();
      return;
    }
    sink.onPhase("Running");
    this.replication = new Replication({
      connection: this.connection,
      start: plan.start,
      byGtid,
      serverId: this.opts.serverId,
      schemas: new Map(schemas.map((s) => [tableKey(s.database, s.table), s])),
      handOver: (give) => this.handOver(give),
      changeSchema: (before, after) => applySchemaChange(before, after, { database: this.opts.database, mapping: this.mappingOf(after), clickhouse: this.opts.clickhouse, sink, logger: this.opts.logger, signal: this.stopping.signal }),
      logger: this.opts.logger,
      signal: this.stopping.signal,
    });
    await this.replication.run();
  }

  private mappingOf(schema: TableSchema): MysqlSource["tableMappings"][number] {
    const mapping = this.opts.spec.tableMappings.find((m) => m.targetTable === schema.targetTable);
    if (mapping === undefined) throw new Error(`no table mapping for target ${schema.targetTable}`);
    return mapping;
  }

  /** One hand-over to the core at a time, in order; false once the core stopped taking them. */
  private handOver(give: (sink: RecordSink) => Promise<void>): Promise<boolean> {
    const run = this.chain.then(async () => {
      if (!this.delivering || this.sink === undefined) return false;
      try {
        await give(this.sink);
      } catch (err) {
        // The pipeline failed for good: nothing more is handed over and the consumer stops (uncommitted records come again).
        this.delivering = false;
        this.opts.logger.error({ err: errorMessage(err) }, "the core refused records; stopping the source");
        this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
        return false;
      }
      return true;
    });
    this.chain = run;
    return run;
  }
}
