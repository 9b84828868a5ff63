import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BulkHistogram } from "./bulk-histogram.js";
import { ErrorType } from "./errors.js";
import type { DestinationSink } from "./sink.js";
import type { RawRecord } from "./source.js";

/**
 * Retried operations are system errors of one side: these insert into ClickHouse, the rest
 * (commit, lag) talk to the source. Named as the clickpipes_log error types are.
 */
const DESTINATION_OPERATIONS = new Set(["insert_rows", "insert_errors", "insert_state", "insert_log"]);
const SystemErrorType = { destination: ErrorType.destination, source: ErrorType.source } as const;

/** Seconds from a record's source timestamp to its insert; minutes-old records (a backlog) land in the top buckets. */
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];

type PipeLabel = "pipe";

/**
 * The consumer's Prometheus metrics, in one registry so tests and processes do not share
 * globals. Besides the first names (rows, record errors, insert duration, lag), the set
 * ClickPipes publishes, in Prometheus naming: fetched bytes and events, sent bytes, errors
 * by type, and end-to-end latency. docs/observability.md lists them with the dashboard.
 */
export class IngestMetrics {
  readonly registry = new Registry();
  readonly rows: Counter<PipeLabel>;
  readonly bytes: Counter<PipeLabel>;
  readonly batches: Counter<PipeLabel>;
  readonly recordErrors: Counter<"pipe" | "error_type">;
  readonly retries: Counter<"pipe" | "operation">;
  readonly insertSeconds: Histogram<PipeLabel>;
  readonly lag: Gauge<"pipe" | "topic" | "partition">;
  readonly sourceLag: Gauge<"pipe" | "stream" | "unit">;
  readonly fetchedBytes: Counter<PipeLabel>;
  readonly fetchedEvents: Counter<PipeLabel>;
  readonly sentBytes: Counter<PipeLabel>;
  readonly errors: Counter<"pipe" | "error_type" | "scope">;
  readonly latency: BulkHistogram;

  constructor(
    private readonly pipe: string,
    /** The source plugin's lag unit (records, bytes, ms). */
    private readonly lagUnit = "records",
  ) {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => new Counter({ name, help, labelNames, registers });
    this.rows = counter("clickpipes_rows_total", "Rows inserted into the destination table.", ["pipe"]);
    this.bytes = counter("clickpipes_bytes_total", "Source bytes of the records consumed.", ["pipe"]);
    this.batches = counter("clickpipes_batches_total", "Batches inserted and committed.", ["pipe"]);
    this.recordErrors = counter("clickpipes_record_errors_total", "Records written to the error table, by error type.", ["pipe", "error_type"]);
    this.retries = counter("clickpipes_retries_total", "Retried operations after a retriable failure.", ["pipe", "operation"]);
    this.fetchedBytes = counter("clickpipes_fetched_bytes_total", "Bytes of the records fetched from the source (key and value), committed or not (ClickPipes_FetchedBytes).", ["pipe"]);
    this.fetchedEvents = counter("clickpipes_fetched_events_total", "Records fetched from the source, committed or not (ClickPipes_FetchedEvents).", ["pipe"]);
    this.sentBytes = counter("clickpipes_sent_bytes_total", "Bytes of the insert bodies ClickHouse accepted, uncompressed (ClickPipes_SentBytes).", ["pipe"]);
    this.errors = counter(
      "clickpipes_errors_total",
      "Errors by type (ClickPipes_Errors): scope=record for records sent to the error table, scope=system for failed source or destination operations that are retried.",
      ["pipe", "error_type", "scope"],
    );
    this.insertSeconds = new Histogram({
      name: "clickpipes_insert_duration_seconds",
      help: "Time to insert one batch (rows, error rows and state) into ClickHouse.",
      labelNames: ["pipe"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    // Observed for every record, so not a prom-client Histogram (see bulk-histogram.ts).
    this.latency = new BulkHistogram(
      "clickpipes_end_to_end_latency_seconds",
      "Seconds from a record's source timestamp (broker, arrival or commit time) to the end of the insert that carried it.",
      LATENCY_BUCKETS,
      { pipe },
    ).registerIn(this.registry);
    // Kept as it was first published (dashboards use it): the stream split at its last '/', which for Kafka is topic and partition.
    this.lag = new Gauge({
      name: "clickpipes_consumer_lag",
      help: "Source backlog per stream, split as topic and partition (Kafka: records per topic partition). See clickpipes_source_lag.",
      labelNames: ["pipe", "topic", "partition"],
      registers,
    });
    this.sourceLag = new Gauge({
      name: "clickpipes_source_lag",
      help: "Source backlog per stream (Kafka topic/partition, Kinesis shard...), in the source's unit: records, bytes or ms behind the tip.",
      labelNames: ["pipe", "stream", "unit"],
      registers,
    });
    // Present from the start at 0, so rate() and the error-ratio alert have a series before the first error.
    this.errors.inc({ pipe, error_type: SystemErrorType.destination, scope: "system" }, 0);
    this.errors.inc({ pipe, error_type: SystemErrorType.source, scope: "system" }, 0);
    for (const c of [this.rows, this.bytes, this.batches, this.fetchedBytes, this.fetchedEvents, this.sentBytes]) c.inc({ pipe }, 0);
    collectDefaultMetrics({ register: this.registry });
  }

  batchDone(rows: number, bytes: number, seconds: number): void {
    this.rows.inc({ pipe: this.pipe }, rows);
    this.bytes.inc({ pipe: this.pipe }, bytes);
    this.batches.inc({ pipe: this.pipe });
    this.insertSeconds.observe({ pipe: this.pipe }, seconds);
  }

  /** Records as they arrive from the source, before decoding. */
  fetched(records: readonly RawRecord[]): void {
    let bytes = 0;
    for (const r of records) bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0);
    this.fetchedEvents.inc({ pipe: this.pipe }, records.length);
    this.fetchedBytes.inc({ pipe: this.pipe }, bytes);
  }

  /** The source timestamps (ms) of records whose insert ended at `insertedAt` (ms). */
  inserted(timestamps: readonly number[], insertedAt: number): void {
    for (const t of timestamps) {
      // A source clock ahead of ours would give negative latencies; they count as 0.
      if (Number.isFinite(t) && t > 0) this.latency.observe(Math.max(0, insertedAt - t) / 1000);
    }
  }

  recordError(errorType: string): void {
    this.recordErrors.inc({ pipe: this.pipe, error_type: errorType });
    this.errors.inc({ pipe: this.pipe, error_type: errorType, scope: "record" });
  }

  retried(operation: string): void {
    this.retries.inc({ pipe: this.pipe, operation });
    const errorType = DESTINATION_OPERATIONS.has(operation) ? SystemErrorType.destination : SystemErrorType.source;
    this.errors.inc({ pipe: this.pipe, error_type: errorType, scope: "system" });
  }

  setLag(stream: string, lag: number): void {
    const slash = stream.lastIndexOf("/");
    this.lag.set({ pipe: this.pipe, topic: slash < 0 ? stream : stream.slice(0, slash), partition: slash < 0 ? "" : stream.slice(slash + 1) }, lag);
    this.sourceLag.set({ pipe: this.pipe, stream, unit: this.lagUnit }, lag);
  }

  /** The sink, counting the bytes of each insert body ClickHouse accepted (retries count once). */
  countingSent(sink: DestinationSink): DestinationSink {
    const sent = this.sentBytes;
    const pipe = this.pipe;
    return {
      async insertBody(table, body, passthrough, frames): Promise<void> {
        await (frames === undefined ? sink.insertBody(table, body, passthrough) : sink.insertBody(table, body, passthrough, frames));
        sent.inc({ pipe }, Buffer.isBuffer(body) ? body.length : body.reduce((n, b) => n + b.length, 0));
      },
      insertErrors: (table, rows) => sink.insertErrors(table, rows),
      insertState: (rows) => sink.insertState(rows),
      insertLog: (rows) => sink.insertLog(rows),
    };
  }
}
