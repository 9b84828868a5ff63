import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The consumer's Prometheus metrics, in one registry so tests and processes do not share globals. */
export class IngestMetrics {
  readonly registry = new Registry();
  readonly rows: Counter<"pipe">;
  readonly bytes: Counter<"pipe">;
  readonly batches: Counter<"pipe">;
  readonly recordErrors: Counter<"pipe" | "error_type">;
  readonly retries: Counter<"pipe" | "operation">;
  readonly insertSeconds: Histogram<"pipe">;
  readonly lag: Gauge<"pipe" | "topic" | "partition">;
  readonly sourceLag: Gauge<"pipe" | "stream" | "unit">;

  constructor(
    private readonly pipe: string,
    /** The source plugin's lag unit (records, bytes, ms). */
    private readonly lagUnit = "records",
  ) {
    const registers = [this.registry];
    this.rows = new Counter({ name: "clickpipes_rows_total", help: "Rows inserted into the destination table.", labelNames: ["pipe"], registers });
    this.bytes = new Counter({ name: "clickpipes_bytes_total", help: "Source bytes of the records consumed.", labelNames: ["pipe"], registers });
    this.batches = new Counter({ name: "clickpipes_batches_total", help: "Batches inserted and committed.", labelNames: ["pipe"], registers });
    this.recordErrors = new Counter({
      name: "clickpipes_record_errors_total",
      help: "Records written to the error table, by error type.",
      labelNames: ["pipe", "error_type"],
      registers,
    });
    this.retries = new Counter({
      name: "clickpipes_retries_total",
      help: "Retried operations after a retriable failure.",
      labelNames: ["pipe", "operation"],
      registers,
    });
    this.insertSeconds = new Histogram({
      name: "clickpipes_insert_duration_seconds",
      help: "Time to insert one batch (rows, error rows and state) into ClickHouse.",
      labelNames: ["pipe"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
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
    collectDefaultMetrics({ register: this.registry });
  }

  batchDone(rows: number, bytes: number, seconds: number): void {
    this.rows.inc({ pipe: this.pipe }, rows);
    this.bytes.inc({ pipe: this.pipe }, bytes);
    this.batches.inc({ pipe: this.pipe });
    this.insertSeconds.observe({ pipe: this.pipe }, seconds);
  }

  recordError(errorType: string): void {
    this.recordErrors.inc({ pipe: this.pipe, error_type: errorType });
  }

  retried(operation: string): void {
    this.retries.inc({ pipe: this.pipe, operation });
  }

  setLag(stream: string, lag: number): void {
    const slash = stream.lastIndexOf("/");
    this.lag.set({ pipe: this.pipe, topic: slash < 0 ? stream : stream.slice(0, slash), partition: slash < 0 ? "" : stream.slice(slash + 1) }, lag);
    this.sourceLag.set({ pipe: this.pipe, stream, unit: this.lagUnit }, lag);
  }
}
