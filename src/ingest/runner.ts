import type { Server } from "node:http";
import type { ClickHouseClient } from "@clickhouse/client";
import { type ClickPipe, type KafkaSource, SecretKeys, parseByteSize, parseDuration, pipeId } from "../api/index.js";
import { defaultConsumerGroup, kafkaClientConfig } from "../sources/kafka/config.js";
import { KafkaRecordSource } from "../sources/kafka/source.js";
import type { BatchLimits } from "./batcher.js";
import { ingestClickHouseClient } from "./clickhouse-client.js";
import type { LoadedPipe } from "./config.js";
import { AvroConfluentDecoder } from "./decoders/avro-confluent.js";
import { decodeJsonObject } from "./decoders/json.js";
import { destinationError } from "./destination-errors.js";
import { ConfigError, ErrorType, IngestError, errorMessage } from "./errors.js";
import { startHttpServer } from "./http.js";
import { type Logger, createLogger } from "./logger.js";
import { compileMapper } from "./mapper.js";
import { IngestMetrics } from "./metrics.js";
import { Pipeline, type PipelineOptions } from "./pipeline.js";
import { retry } from "./retry.js";
import { setUpDestination } from "./setup.js";
import { ClickHouseSink, chTime } from "./sink.js";

export interface RunOptions {
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  readonly httpPort: number;
  /** SIGTERM to exit; the contract is 15 s, so in-flight work gets a little less. */
  readonly shutdownMs?: number;
}

function batchLimits(pipe: ClickPipe): BatchLimits {
  const s = pipe.spec.settings;
  return {
    maxRows: s.maxBatchRows,
    maxBytes: parseByteSize(s.maxBatchBytes),
    maxWaitMs: parseDuration(s.streamingMaxInsertWaitTime),
  };
}

function kafkaSpec(pipe: ClickPipe): KafkaSource {
  const kafka = pipe.spec.source.kafka;
  if (kafka === undefined) throw new ConfigError("this consumer runs Kafka sources only: spec.source.kafka is not set");

  return kafka;
}

function clickhouseClient(loaded: LoadedPipe): ClickHouseClient {
  const dest = loaded.pipe.spec.destination;
  const ref = dest.clickhouse.credentialsSecretRef;
  return ingestClickHouseClient({
    url: dest.clickhouse.url,
    username: loaded.secrets.get(ref.name, SecretKeys.username),
    password: loaded.secrets.get(ref.name, SecretKeys.password),
    database: dest.database,
  });
}

interface Running {
  readonly pipeline: Pipeline;
  readonly source: KafkaRecordSource;
}

/** The ingest core for one pipe, from a loaded config to exit code: used by `run` and `consume`. */
export async function runPipe(loaded: LoadedPipe, opts: RunOptions): Promise<number> {
  const pipe = pipeId(loaded.pipe);
  const logger = createLogger(pipe);
  let client: ClickHouseClient | undefined;
  let server: Server | undefined;
  const stopping = new AbortController();
  let ready = false;
  let fatal: unknown;
  const fatalSignal = new AbortController();
  const onFatal = (err: unknown): void => {
    fatal ??= err;
    fatalSignal.abort();
  };
  try {
    const metrics = new IngestMetrics(pipe);
    server = await startHttpServer(opts.httpPort, { healthy: () => fatal === undefined, ready: () => ready }, metrics.registry, logger);
    const address = server.address();
    logger.info({ port: typeof address === "object" && address !== null ? address.port : opts.httpPort }, "serving /healthz, /readyz and /metrics");
    const spec = kafkaSpec(loaded.pipe);
    const limits = batchLimits(loaded.pipe);
    client = clickhouseClient(loaded);
    const sink = new ClickHouseSink(client, { database: loaded.pipe.spec.destination.database, table: loaded.pipe.spec.destination.table ?? loaded.pipe.metadata.name }, destinationError);
    const columns = await setUpDestination(client, loaded.pipe, logger, stopping.signal);
    const running = start(loaded, { spec, limits, sink, metrics, logger, onFatal, signal: stopping.signal, columns });
    await startSource(running, logger, stopping.signal);
    ready = true;
    logger.info({ limits }, "consuming");
    const signal = await waitForStop(fatalSignal.signal);
    return await shutdown(running, { logger, signal, fatal, stopping, shutdownMs: opts.shutdownMs ?? 13_000 });
  } catch (err) {
    await reportStartupFailure(err, logger, client, pipe);
    return 1;
  } finally {
    await client?.close();
    server?.close();
  }
}

interface StartDeps {
  readonly spec: KafkaSource;
  readonly limits: BatchLimits;
  readonly sink: ClickHouseSink;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  readonly onFatal: (err: unknown) => void;
  readonly signal: AbortSignal;
  readonly columns: readonly { name: string; type: string }[];
}

function start(loaded: LoadedPipe, deps: StartDeps): Running {
  const { metadata, spec } = loaded.pipe;
  const namespace = metadata.namespace ?? "default";
  const source = new KafkaRecordSource({
    spec: deps.spec,
    client: kafkaClientConfig(deps.spec, loaded.secrets, `clickpipes-${namespace}-${metadata.name}`),
    groupId: deps.spec.consumerGroup ?? defaultConsumerGroup(namespace, metadata.name),
    logger: deps.logger,
    onFatal: deps.onFatal,
  });
  const pipeline = new Pipeline({
    pipe: pipeId(loaded.pipe),
    mapper: compileMapper(deps.columns, spec.fieldMappings ?? []),
    ...decoding(deps.spec, loaded, deps.signal),
    sink: deps.sink,
    source,
    limits: deps.limits,
    metrics: deps.metrics,
    logger: deps.logger,
    retry: { initialMs: 250, maxMs: 5_000, signal: deps.signal },
    onFatal: deps.onFatal,
  });
  if (spec.settings.exactlyOnce) {
    // Documented as not implemented in this release: run, but say so where users look.
    pipeline.systemError(ErrorType.config, "spec.settings.exactlyOnce is not implemented yet: this pipe delivers at-least-once", "warn");
  }
  return { pipeline, source };
}

/** JSONEachRow decodes in place and may pass records through; AvroConfluent fetches schemas first. */
function decoding(spec: KafkaSource, loaded: LoadedPipe, signal: AbortSignal): Pick<PipelineOptions, "decode" | "prepare" | "passthrough"> {
  const registry = spec.schemaRegistry;
  if (spec.format === "JSONEachRow" || registry === undefined) return { decode: decodeJsonObject, passthrough: true };
  const creds = registry.credentialsSecretRef;
  const avro = new AvroConfluentDecoder({
    url: registry.url,
    ...(creds === undefined ? {} : { username: loaded.secrets.get(creds.name, SecretKeys.username), password: loaded.secrets.get(creds.name, SecretKeys.password) }),
    retry: { initialMs: 500, maxMs: 10_000, signal },
  });
  return { decode: (bytes) => avro.decode(bytes), prepare: (records) => avro.prepare(records), passthrough: false };
}

async function startSource(running: Running, logger: Logger, signal: AbortSignal): Promise<void> {
  await retry(() => running.source.start(running.pipeline), {
    initialMs: 1_000,
    maxMs: 15_000,
    signal,
    retriable: (err) => !(err instanceof ConfigError),
    onRetry: (err, attempt) => logger.warn({ err: errorMessage(err), attempt }, "Kafka not reachable yet, retrying"),
  });
}

function waitForStop(fatal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      fatal.removeEventListener("abort", onFatal);
      resolve(why);
    };
    const onTerm = (): void => done("SIGTERM");
    const onInt = (): void => done("SIGINT");
    const onFatal = (): void => done("fatal");
    process.once("SIGTERM", onTerm);
    process.once("SIGINT", onInt);
    if (fatal.aborted) done("fatal");
    else fatal.addEventListener("abort", onFatal, { once: true });
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
    if (running.pipeline.failed === undefined) await running.pipeline.flush();
  } catch (err) {
    logger.error({ err: errorMessage(err) }, "the last batch was not committed; it will be consumed again");
    code = 1;
  } finally {
    clearTimeout(deadline);
  }
  if (deps.fatal !== undefined) logger.error({ err: errorMessage(deps.fatal) }, "consumer stopped by a non-retriable failure");
  await running.source.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, "leaving the consumer group failed"));
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
