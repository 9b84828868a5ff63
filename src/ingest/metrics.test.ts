import { describe, expect, it } from "vitest";
import { IngestMetrics } from "./metrics.js";
import type { DestinationSink } from "./sink.js";
import type { RawRecord } from "./source.js";

const record = (value: string, timestamp: number): RawRecord => ({ value: Buffer.from(value), key: Buffer.from("k"), timestamp, stream: "t/0", position: "1" });

async function sample(m: IngestMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  const found = values.find((v) => (v as { metricName?: string }).metricName === undefined && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found?.value;
}

describe("IngestMetrics", () => {
  it("keeps the first published names", async () => {
    const text = await new IngestMetrics("ns/p").registry.metrics();
    for (const name of ["clickpipes_rows_total", "clickpipes_record_errors_total", "clickpipes_insert_duration_seconds", "clickpipes_consumer_lag", "clickpipes_source_lag"]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it("counts fetched events and bytes (key and value) as records arrive", async () => {
    const m = new IngestMetrics("ns/p");
    m.fetched([record("abc", 1), record("de", 1)]);
    expect(await sample(m, "clickpipes_fetched_events_total", { pipe: "ns/p" })).toBe(2);
    expect(await sample(m, "clickpipes_fetched_bytes_total", { pipe: "ns/p" })).toBe(7);
  });

  it("observes end-to-end latency from the record timestamp to the insert, clock skew as 0", async () => {
    const m = new IngestMetrics("ns/p");
    m.inserted([1_000, 9_000, 12_000], 11_000);
    const text = await m.registry.metrics();
    expect(text).toContain('clickpipes_end_to_end_latency_seconds_count{pipe="ns/p"} 3');
    expect(text).toContain('clickpipes_end_to_end_latency_seconds_sum{pipe="ns/p"} 12');
  });

  it("counts errors by type: record errors and retried source or destination operations", async () => {
    const m = new IngestMetrics("ns/p");
    m.recordError("DECODE_ERROR");
    m.retried("insert_rows");
    m.retried("insert_state");
    m.retried("commit");
    expect(await sample(m, "clickpipes_errors_total", { error_type: "DECODE_ERROR", scope: "record" })).toBe(1);
    expect(await sample(m, "clickpipes_errors_total", { error_type: "DESTINATION_ERROR", scope: "system" })).toBe(2);
    expect(await sample(m, "clickpipes_errors_total", { error_type: "SOURCE_ERROR", scope: "system" })).toBe(1);
    expect(await sample(m, "clickpipes_record_errors_total", { error_type: "DECODE_ERROR" })).toBe(1);
  });

  it("counts the bytes of insert bodies ClickHouse accepted, not of refused ones", async () => {
    const m = new IngestMetrics("ns/p");
    let refuse = false;
    const sink: DestinationSink = {
      insertBody: () => (refuse ? Promise.reject(new Error("down")) : Promise.resolve()),
      insertErrors: () => Promise.resolve(),
      insertState: () => Promise.resolve(),
      insertLog: () => Promise.resolve(),
    };
    const counting = m.countingSent(sink);
    await counting.insertBody("t", Buffer.from("12345"), false);
    await counting.insertBody("t", [Buffer.from("ab"), Buffer.from("c")], true);
    refuse = true;
    await expect(counting.insertBody("t", Buffer.from("zzzz"), false)).rejects.toThrow("down");
    expect(await sample(m, "clickpipes_sent_bytes_total", { pipe: "ns/p" })).toBe(8);
  });
});
