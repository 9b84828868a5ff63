import { describe, expect, it } from "vitest";
import { decodeJsonObject } from "./decoders/json.js";
import { DestinationError } from "./errors.js";
import type { Routes } from "./batch.js";
import { createLogger } from "./logger.js";
import { compileMapper } from "./mapper.js";
import { IngestMetrics } from "./metrics.js";
import { Pipeline } from "./pipeline.js";
import type { DestinationSink, ErrorRow, LogRow, StateRow } from "./sink.js";
import type { Checkpoint, RawRecord, Source } from "./source.js";

class FakeSink implements DestinationSink {
  readonly events: string[] = [];
  readonly rows: Record<string, unknown>[] = [];
  readonly rowsByTable = new Map<string, Record<string, unknown>[]>();
  readonly errors: ErrorRow[] = [];
  readonly errorTables: string[] = [];
  readonly state: StateRow[] = [];
  readonly log: LogRow[] = [];
  failuresLeft = 0;
  /** The error the next `failuresLeft` inserts fail with (ClickHouse down by default). */
  failure = new DestinationError("connect ECONNREFUSED", { retriable: true });
  /** Refuse (a data error) any body containing this text, as ClickHouse refuses a batch with one bad row. */
  refuse: string | undefined;

  insertBody(table: string, body: Buffer | readonly Buffer[], passthrough: boolean): Promise<void> {
    const text = Buffer.isBuffer(body) ? body.toString() : Buffer.concat(body).toString();
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      this.events.push("refused");
      return Promise.reject(this.failure);
    }
    if (this.refuse !== undefined && text.includes(this.refuse)) {
      return Promise.reject(new DestinationError("Code: 27. Cannot parse input", { retriable: false, dataError: true, code: 27 }));
    }
    const lines = text.split("\n").filter(Boolean);
    this.events.push(`rows:${lines.length}:${passthrough ? "raw" : "mapped"}`);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    this.rows.push(...parsed);
    this.rowsByTable.set(table, [...(this.rowsByTable.get(table) ?? []), ...parsed]);
    return Promise.resolve();
  }
  insertErrors(table: string, rows: readonly ErrorRow[]): Promise<void> {
    this.events.push(`errors:${rows.length}`);
    this.errors.push(...rows);
    this.errorTables.push(table);
    return Promise.resolve();
  }
  insertState(rows: readonly StateRow[]): Promise<void> {
    this.events.push("state");
    this.state.push(...rows);
    return Promise.resolve();
  }
  insertLog(rows: readonly LogRow[]): Promise<void> {
    this.log.push(...rows);
    return Promise.resolve();
  }
}

class FakeSource implements Source {
  constructor(private readonly events: string[]) {}
  readonly commits: Checkpoint[][] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  stopDelivering(): Promise<void> {
    return Promise.resolve();
  }
  commit(checkpoints: readonly Checkpoint[]): Promise<void> {
    this.events.push("commit");
    this.commits.push([...checkpoints]);
    return Promise.resolve();
  }
  lag(): Promise<Map<string, number>> {
    return Promise.resolve(new Map<string, number>());
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function rec(offset: number, value: string, partition = 0, table?: string): RawRecord {
  return { value: Buffer.from(value), key: null, timestamp: 0, stream: `t/${partition}`, position: String(offset), ...(table === undefined ? {} : { table }) };
}

const offsetColumn = { name: "_offset", value: (r: RawRecord) => r.position };

function routes(columns: { name: string; type: string }[], tables = ["t"]): Routes {
  const mapper = compileMapper(columns, [], [offsetColumn]);
  return { tables: new Map(tables.map((t) => [t, mapper])), defaultTable: tables[0] as string, decode: decodeJsonObject, passthrough: true };
}

function setup(columns = [{ name: "id", type: "Int64" }, { name: "name", type: "String" }, { name: "_offset", type: "Int64" }], maxRows = 1000, tables = ["t"]) {
  const sink = new FakeSink();
  const source = new FakeSource(sink.events);
  const fatal: unknown[] = [];
  let completed = 0;
  const metrics = new IngestMetrics("ns/p");
  const pipeline = new Pipeline({
    pipe: "ns/p",
    routes: routes(columns, tables),
    sink,
    source,
    limits: { maxRows, maxBytes: 1 << 30, maxWaitMs: 60_000 },
    metrics,
    logger: createLogger("ns/p", "silent"),
    retry: { initialMs: 1, maxMs: 2 },
    onFatal: (err) => fatal.push(err),
    onCompleted: () => completed++,
  });
  return { sink, source, pipeline, fatal, metrics, completed: () => completed };
}

describe("pipeline", () => {
  it("commits positions only after the rows, the error rows and the state rows are inserted", async () => {
    const { sink, source, pipeline } = setup();
    await pipeline.onRecords([rec(0, '{"id":1,"name":"a"}'), rec(1, "{not json"), rec(2, '{"id":3,"name":"c"}', 1)]);
    await pipeline.flush();
    expect(sink.events).toEqual(["rows:2:raw", "errors:1", "state", "commit"]);
    expect(sink.rows).toEqual([
      { _offset: "0", id: 1, name: "a" },
      { _offset: "2", id: 3, name: "c" },
    ]);
    expect(sink.errors[0]).toMatchObject({ error_type: "DECODE_ERROR", raw_message: "{not json", source_position: "t/0/1" });
    expect(source.commits[0]).toEqual(
      expect.arrayContaining([
        { stream: "t/0", position: "1" },
        { stream: "t/1", position: "2" },
      ]),
    );
    const p0 = sink.state.find((s) => s.source_position === "t/0");
    expect(p0).toMatchObject({ rows: 1, record_errors: 1, batches: 1, position: "1" });
  });

  it("measures fetched events, sent bytes and each record's latency from its source timestamp to its insert", async () => {
    const { pipeline, metrics } = setup();
    const now = Date.now();
    await pipeline.onRecords([{ ...rec(0, '{"id":1,"name":"a"}'), timestamp: now - 2_000 }, { ...rec(1, '{"id":2,"name":"b"}'), timestamp: now - 4_000 }]);
    await pipeline.flush();
    const text = await metrics.registry.metrics();
    expect(text).toContain('clickpipes_fetched_events_total{pipe="ns/p"} 2');
    expect(text).toContain('clickpipes_end_to_end_latency_seconds_count{pipe="ns/p"} 2');
    expect(text).toContain('clickpipes_end_to_end_latency_seconds_bucket{le="1",pipe="ns/p"} 0');
    expect(text).toContain('clickpipes_end_to_end_latency_seconds_bucket{le="5",pipe="ns/p"} 2');
    expect(Number(/^clickpipes_sent_bytes_total\{pipe="ns\/p"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it("flushes by itself when the row limit is reached", async () => {
    const { sink, pipeline } = setup(undefined, 2);
    await pipeline.onRecords([rec(0, '{"id":1}'), rec(1, '{"id":2}'), rec(2, '{"id":3}')]);
    await pipeline.flush();
    expect(sink.events).toEqual(["rows:2:raw", "state", "commit", "rows:1:raw", "state", "commit"]);
  });

  it("inserts the tail of a backlog once the source is caught up, and leaves a trickle to the wait limit", async () => {
    const { sink, pipeline } = setup(undefined, 2);
    await pipeline.onRecords([rec(0, '{"id":1}'), rec(1, '{"id":2}'), rec(2, '{"id":3}')]);
    await pipeline.onCaughtUp();
    await pipeline.settled();
    expect(sink.events).toEqual(["rows:2:raw", "state", "commit", "rows:1:raw", "state", "commit"]);
    // No full batch since: records arriving one by one wait for the timer (maxWaitMs), one insert per wait.
    await pipeline.onRecords([rec(3, '{"id":4}')]);
    await pipeline.onCaughtUp();
    await pipeline.settled();
    expect(sink.events).toHaveLength(6);
    await pipeline.flush();
    expect(sink.rows.map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });

  it("routes a wrong-typed record to the error table and inserts the others", async () => {
    const { sink, pipeline } = setup();
    sink.refuse = '"id":"oops"';
    await pipeline.onRecords([rec(0, '{"id":1}'), rec(1, '{"id":"oops"}'), rec(2, '{"id":2}')]);
    await pipeline.flush();
    expect(sink.rows.map((r) => r.id)).toEqual(["1", "2"]);
    expect(sink.errors).toHaveLength(1);
    expect(sink.errors[0]).toMatchObject({ error_type: "TYPE_ERROR", source_position: "t/0/1" });
    expect(sink.errors[0]?.message).toMatch(/column "id"/);
  });

  it("bisects a batch ClickHouse refuses and sends only the refused row to the error table", async () => {
    const { sink, pipeline } = setup([{ name: "id", type: "Int64" }, { name: "name", type: "String" }]);
    sink.refuse = "engine-says-no";
    const records = Array.from({ length: 9 }, (_, i) => rec(i, JSON.stringify({ id: i, name: i === 6 ? "engine-says-no" : `n${i}` })));
    await pipeline.onRecords(records);
    await pipeline.flush();
    expect(sink.rows).toHaveLength(8);
    expect(sink.errors).toHaveLength(1);
    // The record's bytes come back from its copy in the passed-through body.
    expect(sink.errors[0]).toMatchObject({ error_type: "INSERT_ERROR", source_position: "t/0/6", raw_message: '{"id":6,"name":"engine-says-no"}' });
  });

  it("retries a retriable insert failure and loses nothing", async () => {
    const { sink, source, pipeline } = setup();
    sink.failuresLeft = 3;
    await pipeline.onRecords([rec(0, '{"id":1}'), rec(1, '{"id":2}')]);
    await pipeline.flush();
    expect(sink.rows).toHaveLength(2);
    expect(source.commits).toHaveLength(1);
  });

  it("retries a refusal that is not about the data, reports it once, and never turns the rows into error rows", async () => {
    const { sink, source, pipeline, fatal } = setup();
    sink.failuresLeft = 4;
    sink.failure = new DestinationError("Code: 60. DB::Exception: Table default.t does not exist. (UNKNOWN_TABLE)", { retriable: true, code: 60 });
    await pipeline.onRecords([rec(0, '{"id":1}'), rec(1, '{"id":2}')]);
    await pipeline.flush();
    expect(sink.rows).toHaveLength(2);
    expect(sink.errors).toHaveLength(0);
    expect(fatal).toHaveLength(0);
    expect(source.commits).toHaveLength(1);
    expect(sink.log.filter((l) => l.error_type === "DESTINATION_ERROR")).toHaveLength(1);
    expect(sink.log[0]).toMatchObject({ level: "error", pipe: "ns/p" });
    expect(sink.log[0]?.message).toContain("UNKNOWN_TABLE");
  });

  it("writes each record to the table it names, error rows to that table's error table", async () => {
    const { sink, pipeline } = setup(undefined, 1000, ["a", "b"]);
    await pipeline.onRecords([rec(0, '{"id":1}', 0, "a"), rec(1, '{"id":2}', 0, "b"), rec(2, "{bad", 0, "b"), rec(3, '{"id":4}', 0, "nowhere")]);
    await pipeline.flush();
    expect(sink.rowsByTable.get("a")?.map((r) => r.id)).toEqual([1]);
    expect(sink.rowsByTable.get("b")?.map((r) => r.id)).toEqual([2]);
    expect(sink.errorTables.sort()).toEqual(["a", "b"]);
    expect(sink.errors.map((e) => e.error_type).sort()).toEqual(["DECODE_ERROR", "ROUTE_ERROR"]);
    expect(sink.state).toEqual([expect.objectContaining({ source_position: "t/0", rows: 2, record_errors: 2, position: "3" })]);
  });

  it("commits positions reached without records, and completes after everything is committed", async () => {
    const { sink, source, pipeline, completed } = setup();
    await pipeline.onRecords([rec(0, '{"id":1}')]);
    await pipeline.onProgress([{ stream: "file-b", position: "done" }]);
    await pipeline.onEnd();
    expect(source.commits[0]).toEqual(expect.arrayContaining([{ stream: "t/0", position: "0" }, { stream: "file-b", position: "done" }]));
    expect(sink.state.find((s) => s.source_position === "file-b")).toMatchObject({ rows: 0, position: "done" });
    expect(sink.log.at(-1)).toMatchObject({ level: "info", error_type: "PHASE", message: "Completed" });
    expect(pipeline.completed).toBe(true);
    expect(completed()).toBe(1);
  });
});
