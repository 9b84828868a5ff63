import type { Server } from "node:http";
import type { ClickHouseClient } from "@clickhouse/client";
import { BULK_CLIENT_OPTIONS, CONSUMER_CLIENT_OPTIONS, type ClickHouseClientOptions, createClickHouseClient } from "../clickhouse/client.js";
import { type ClickPipe, SecretKeys, parseByteSize, parseDuration, pipeId, sourceKind } from "../api/index.js";
import type { SourcePlugin } from "../sources/plugin.js";
import { ingestedKinds, sourcePlugin } from "../sources/registry.js";
import type { BatchLimits } from "./batcher.js";
import type { Routes } from "./batch.js";
import { ClickHouseCheckpointStore } from "./checkpoint-store.js";
import type { LoadedPipe } from "./config.js";
import { createDecoding } from "./decoders/dispatch.js";
import { destinationError } from "./destination-errors.js";
import { ConfigError, ErrorType, IngestError, errorMessage, isRetriable } from "./errors.js";
import { startHttpServer } from "./http.js";
import { type Logger, createLogger } from "./logger.js";
import { type ColumnSpec, compileMapper } from "./mapper.js";
import { IngestMetrics } from "./metrics.js";
import { Pipeline, type PipelineOptions } from "./pipeline.js";
import { retry } from "./retry.js";
import { type SetupMode, setUpDestination } from "./setup.js";
import { ClickHouseSink, chTime } from "./sink.js";
import type { Source } from "./source.js";
import { LogType } from "./system-log.js";

export interface RunOptions {
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  readonly httpPort: number;
  /** SIGTERM to exit; the contract is 15 s, so in-flight work gets a little less. */
  readonly shutdownMs?: number;
  /** `run` creates its tables (admin credentials); `consume` only checks them (the operator created them). */
  readonly setup: SetupMode;
  /** `consume` stays up after a one-shot pipe completed (the operator scales it to 0); `run` exits 0. */
  readonly exitOnCompletion: boolean;
  /** This consumer's place among the pipe's replicas. Default: the only one. */
  readonly replica?: { readonly index: number; readonly count: number };
}

function batchLimits(pipe: ClickPipe): BatchLimits {
  const s = pipe.spec.settings;
  return {
    maxRows: s.maxBatchRows,
    maxBytes: parseByteSize(s.maxBatchBytes),
    maxWaitMs: parseDuration(s.streamingMaxInsertWaitTime),
  };
}

/** The plugin of the pipe's source, or a ConfigError naming what this build ingests. */
export function pluginOf(pipe: ClickPipe): SourcePlugin {
  const plugin = sourcePlugin(pipe.spec);
  if (plugin === undefined) {
    throw new ConfigError(`spec.source.${sourceKind(pipe.spec)}: this release ingests ${ingestedKinds().join(", ")} sources only`);
  }
  return plugin;
}

function clickhouseClient(loaded: LoadedPipe, options: ClickHouseClientOptions = CONSUMER_CLIENT_OPTIONS): ClickHouseClient {
  const dest = loaded.pipe.spec.destination;
  const ref = dest.clickhouse.credentialsSecretRef;
  return createClickHouseClient(
    {
      url: dest.clickhouse.url,
      username: loaded.secrets.get(ref.name, SecretKeys.username),
      password: loaded.secrets.get(ref.name, SecretKeys.password),
      database: dest.database,
    },
    options,
  );
}

interface Running {
  readonly pipeline: Pipeline;
  readonly source: Source;
}

type StopReason = "fatal" | "completed";

/** A fatal failure or the source's completion, told to whoever waits (the runner, between start and shutdown). */
class StopSignals {
  fatal: unknown;
  private readonly seen: StopReason[] = [];
  private listener: ((why: StopReason) => void) | undefined;

  readonly onFatal = (err: unknown): void => {
    this.fatal ??= err;
    this.emit("fatal");
  };

  readonly onCompleted = (): void => this.emit("completed");

  /** Calls `fn` for each reason, those already seen first. */
  listen(fn: ((why: StopReason) => void) | undefined): void {
    this.listener = fn;
    for (const why of this.seen) fn?.(why);
  }

  private emit(why: StopReason): void {
    this.seen.push(why);
    this.listener?.(why);
  }
}

/** The ingest core for one pipe, from a loaded config to exit code: used by `run` and `consume`. */
export async function runPipe(loaded: LoadedPipe, opts: RunOptions): Promise<number> {
  const pipe = pipeId(loaded.pipe);
  const logger = createLogger(pipe);
  let client: ClickHouseClient | undefined;
  let bulkClient: ClickHouseClient | undefined;
  let server: Server | undefined;
  const stopping = new AbortController();
  let ready = false;
  const signals = new StopSignals();
  try {
    const plugin = pluginOf(loaded.pipe);
    const metrics = new IngestMetrics(pipe, plugin.capabilities(loaded.pipe.spec).lagUnit);
    server = await startHttpServer(opts.httpPort, { healthy: () => signals.fatal === undefined, ready: () => ready }, metrics.registry, logger);
    const address = server.address();
    logger.info({ port: typeof address === "object" && address !== null ? address.port : opts.httpPort }, "serving /healthz, /readyz and /metrics");
    client = clickhouseClient(loaded);
    // Opens no connection until a source runs a bulk statement (object storage).
    bulkClient = clickhouseClient(loaded, BULK_CLIENT_OPTIONS);
    const sink = new ClickHouseSink(client, loaded.pipe.spec.destination.database, destinationError, bulkClient);
    await prepareDestination(plugin, loaded, { client, logger, signal: stopping.signal });
    const columns = await setUpDestination(client, loaded.pipe, { mode: opts.setup, tables: plugin.tables(loaded.pipe.spec), logger, signal: stopping.signal });
    const running = await start(loaded, { plugin, client, sink, metrics, logger, signals, signal: stopping.signal, columns, replica: opts.replica ?? { index: 0, count: 1 } });
    await startSource(running, logger, stopping.signal);
    ready = true;
    // The replica says which share of the work this consumer took (sources that split by index).
    logger.info({ limits: batchLimits(loaded.pipe), replica: opts.replica ?? { index: 0, count: 1 } }, "consuming");
    const signal = await waitForStop(signals, opts.exitOnCompletion);
    return await shutdown(running, { logger, signal, fatal: signals.fatal, stopping, shutdownMs: opts.shutdownMs ?? 13_000 });
  } catch (err) {
    await reportStartupFailure(err, logger, client, pipe);
    return 1;
  } finally {
    await client?.close();
    await bulkClient?.close();
    server?.close();
  }
}

interface StartDeps {
  readonly plugin: SourcePlugin;
  readonly client: ClickHouseClient;
  readonly sink: ClickHouseSink;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  readonly signals: StopSignals;
  readonly signal: AbortSignal;
  readonly columns: ReadonlyMap<string, readonly ColumnSpec[]>;
  readonly replica: { readonly index: number; readonly count: number };
}

async function start(loaded: LoadedPipe, deps: StartDeps): Promise<Running> {
  const { spec } = loaded.pipe;
  const pipe = pipeId(loaded.pipe);
  const decoding = await decoders(deps.plugin, loaded, deps);
  const source = deps.plugin.open({
    pipe: loaded.pipe,
    secrets: loaded.secrets,
    logger: deps.logger,
    checkpoints: new ClickHouseCheckpointStore(deps.client, spec.destination.database, pipe),
    replica: deps.replica,
    onFatal: deps.signals.onFatal,
    signal: deps.signal,
    clickhouse: deps.client,
  });
  const tables = new Map([...deps.columns].map(([table, columns]) => [table, compileMapper(columns, spec.fieldMappings ?? [], deps.plugin.virtualColumns)]));
  // Setup returned the plugin's tables in its order: the first takes records that name none.
  const routes: Routes = { tables, defaultTable: [...deps.columns.keys()][0] ?? "", decode: decoding.decode, passthrough: decoding.passthrough, ...(decoding.frames === undefined ? {} : { frames: decoding.frames }) };
  const pipeline = new Pipeline({
    pipe,
    routes,
    ...(decoding.prepare === undefined ? {} : { prepare: decoding.prepare }),
    sink: deps.sink,
    source,
    limits: { ...batchLimits(loaded.pipe), ...deps.plugin.batchLimits?.(spec) },
    metrics: deps.metrics,
    logger: deps.logger,
    retry: { initialMs: 250, maxMs: 10_000, signal: deps.signal },
    onFatal: deps.signals.onFatal,
    onCompleted: deps.signals.onCompleted,
    reloadTables: async (changed) => {
      const fresh = await setUpDestination(deps.client, loaded.pipe, { mode: "check", tables: changed, logger: deps.logger, signal: deps.signal });
      for (const [table, columns] of fresh) tables.set(table, compileMapper(columns, spec.fieldMappings ?? [], deps.plugin.virtualColumns));
    },
  });
  if (spec.settings.exactlyOnce && deps.plugin.kind !== "kafka") {
    // Exactly-once is built for Kafka (docs/design/exactly-once.md); other sources say so where users look.
    pipeline.log.error(ErrorType.config, `spec.settings.exactlyOnce is implemented for Kafka sources only: this ${deps.plugin.kind} pipe delivers at-least-once`, "warn");
  }
  return { pipeline, source };
}

type Decoding = Pick<PipelineOptions, "prepare"> & Pick<Routes, "decode" | "passthrough" | "frames">;

/** JSONEachRow decodes in place and may pass records through; the registry formats fetch schemas first (decoders/dispatch.ts). */
function decoders(plugin: SourcePlugin, loaded: LoadedPipe, deps: Pick<StartDeps, "signal" | "logger" | "columns">): Promise<Decoding> {
  const format = plugin.format(loaded.pipe.spec, loaded.secrets);
  // CSV/TabSeparated fields by position default to the destination's columns, virtual ones (_key, _offset...) aside.
  const virtual = new Set(plugin.virtualColumns.map((v) => v.name));
  const columns = ([...deps.columns.values()][0] ?? []).map((c) => c.name).filter((name) => !virtual.has(name));
  const onRetry = (err: unknown, attempt: number): void => deps.logger.warn({ err: errorMessage(err), attempt }, "schema registry unavailable, retrying");
  return createDecoding(format, { columns, retry: { initialMs: 500, maxMs: 10_000, signal: deps.signal, onRetry } });
}

/** Lets a source that shapes its own tables (CDC) create them before they are checked; retried while the source is unreachable. */
async function prepareDestination(plugin: SourcePlugin, loaded: LoadedPipe, deps: { client: ClickHouseClient; logger: Logger; signal: AbortSignal }): Promise<void> {
  const prepare = plugin.prepareDestination?.bind(plugin);
  if (prepare === undefined) return;
  await retry(() => prepare({ pipe: loaded.pipe, secrets: loaded.secrets, logger: deps.logger, clickhouse: deps.client, signal: deps.signal }), {
    initialMs: 1_000,
    maxMs: 15_000,
    signal: deps.signal,
    retriable: isRetriable,
    onRetry: (err, attempt) => deps.logger.warn({ err: errorMessage(err), attempt }, "cannot prepare the source's tables yet, retrying"),
  });
}

/** Connects the source, retrying what the source says is retriable; the first failure is a SOURCE_ERROR row for the operator. */
async function startSource(running: Running, logger: Logger, signal: AbortSignal): Promise<void> {
  await retry(() => running.source.start(running.pipeline), {
    initialMs: 1_000,
    maxMs: 15_000,
    signal,
    retriable: isRetriable,
    onRetry: (err, attempt) => {
      if (attempt === 0) running.pipeline.log.error(LogType.source, `cannot reach the source, retrying: ${errorMessage(err)}`);
      else logger.warn({ err: errorMessage(err), attempt }, "source not reachable yet, retrying");
    },
  });
}

/** Resolves with why the consumer stops: a signal, a fatal failure, or (for `run`) completion. */
function waitForStop(signals: StopSignals, exitOnCompletion: boolean): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      signals.listen(undefined);
      resolve(why);
    };
    const onTerm = (): void => done("SIGTERM");
    const onInt = (): void => done("SIGINT");
    process.once("SIGTERM", onTerm);
    process.once("SIGINT", onInt);
    // A completed consumer in a pod stays up (ready, idle) until the operator scales it to 0: exiting would restart it.
    signals.listen((why) => {
      if (why === "fatal" || exitOnCompletion) done(why);
    });
  });
}

interface ShutdownDeps {
  readonly logger: Logger;
  readonly signal: string;
  readonly fatal: unknown;
  readonly stopping: AbortController;
  readonly shutdownMs: number;
}

/** Stop fetching, insert and commit what is held, leave the group. Retries stop at the deadline: uncommitted records come again. */
async function shutdown(running: Running, deps: ShutdownDeps): Promise<number> {
  const { logger } = deps;
  logger.info({ signal: deps.signal }, "stopping: finishing the batch in flight");
  const deadline = setTimeout(() => deps.stopping.abort(), deps.shutdownMs);
  let code = deps.signal === "fatal" ? 1 : 0;
  try {
    await running.source.stopDelivering();
    running.pipeline.stop();
    if (running.pipeline.failed === undefined && !running.pipeline.completed) await running.pipeline.flush();
  } catch (err) {
    logger.error({ err: errorMessage(err) }, "the last batch was not committed; it will be consumed again");
    code = 1;
  } finally {
    clearTimeout(deadline);
  }
  if (deps.fatal !== undefined) logger.error({ err: errorMessage(deps.fatal) }, "consumer stopped by a non-retriable failure");
  await running.source.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, "closing the source failed"));
  logger.info({ code }, "stopped");
  return code;
}

async function reportStartupFailure(err: unknown, logger: Logger, client: ClickHouseClient | undefined, pipe: string): Promise<void> {
  const errorType = err instanceof IngestError ? err.errorType : ErrorType.config;
  logger.error({ err: errorMessage(err), error_type: errorType }, "cannot start the pipe");
  process.stderr.write(`clickpipes: ${errorMessage(err)}\n`);
  if (client === undefined) return;
  try {
    await client.insert({
      table: "clickpipes_log",
      values: [{ time: chTime(Date.now()), pipe, level: "error", error_type: errorType, message: errorMessage(err) }],
      format: "JSONEachRow",
    });
  } catch (logErr) {
    logger.warn({ err: errorMessage(logErr) }, "could not write the failure to clickpipes_log");
  }
}
