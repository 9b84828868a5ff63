import { describe, expect, it } from "vitest";
import { decodeJsonObject } from "./decoders/json.js";
import { DestinationError } from "./errors.js";
import { createLogger } from "./logger.js";
import { compileMapper } from "./mapper.js";
import { IngestMetrics } from "./metrics.js";
import { Pipeline } from "./pipeline.js";
import type { DestinationSink, ErrorRow, LogRow, StateRow } from "./sink.js";
import type { Checkpoint, RawRecord, Source } from "./source.js";

class FakeSink implements DestinationSink {
  readonly events: string[] = [];
  readonly rows: Record<string, unknown>[] = [];
  readonly errors: ErrorRow[] = [];
  readonly state: StateRow[] = [];
  failuresLeft = 0;
  /** Refuse (non-retriable) any body containing this text, as ClickHouse refuses a batch with one bad row. */
  refuse: string | undefined;

  insertBody(body: Buffer | readonly Buffer[], passthrough: boolean): Promise<void> {
    const text = Buffer.isBuffer(body) ? body.toString() : Buffer.concat(body).toString();
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new DestinationError("connect ECONNREFUSED", { retriable: true }));
    }
    if (this.refuse !== undefined && text.includes(this.refuse)) {
      return Promise.reject(new DestinationError("Code: 27. Cannot parse input", { retriable: false, code: 27 }));
    }
    const lines = text.split("\n").filter(Boolean);
    this.events.push(`rows:${lines.length}:${passthrough ? "raw" : "mapped"}`);
    for (const line of lines) this.rows.push(JSON.parse(line) as Record<string, unknown>);
    return Promise.resolve();
  }
  insertErrors(rows: readonly ErrorRow[]): Promise<void> {
    this.events.push(`errors:${rows.length}`);
    this.errors.push(...rows);
    return Promise.resolve();
  }
  insertState(rows: readonly StateRow[]): Promise<void> {
    this.events.push("state");
    this.state.push(...rows);
    return Promise.resolve();
  }
  insertLog(_rows: readonly LogRow[]): Promise<void> {
    return Promise.resolve();
  }
}

class FakeSource implements Source {
  constructor(private readonly events: string[]) {}
  readonly commits: Checkpoint[][] = [];
  start(): Promise<void> {
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

function rec(offset: number, value: string, partition = 0): RawRecord {
  return { value: Buffer.from(value), key: null, timestamp: 0, headers: [], position: { topic: "t", partition, offset: String(offset) } };
}

function setup(columns = [{ name: "id", type: "Int64" }, { name: "name", type: "String" }, { name: "_offset", type: "Int64" }], maxRows = 1000) {
  const sink = new FakeSink();
  const source = new FakeSource(sink.events);
  const fatal: unknown[] = [];
  const pipeline = new Pipeline({
    pipe: "ns/p",
    mapper: compileMapper(columns, []),
    decode: decodeJsonObject,
    passthrough: true,
    sink,
    source,
    limits: { maxRows, maxBytes: 1 << 30, maxWaitMs: 60_000 },
    metrics: new IngestMetrics("ns/p"),
    logger: createLogger("ns/p", "silent"),
    retry: { initialMs: 1, maxMs: 2 },
    onFatal: (err) => fatal.push(err),
  });
  return { sink, source, pipeline, fatal };
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
        { topic: "t", partition: 0, nextOffset: "2" },
        { topic: "t", partition: 1, nextOffset: "3" },
      ]),
    );
    const p0 = sink.state.find((s) => s.source_position === "t/0");
    expect(p0).toMatchObject({ rows: 1, record_errors: 1, batches: 1, position: "1" });
  });

  it("flushes by itself when the row limit is reached", async () => {
    const { sink, pipeline } = setup(undefined, 2);
    await pipeline.onRecords([rec(0, '{"id":1}'), rec(1, '{"id":2}'), rec(2, '{"id":3}')]);
    await pipeline.flush();
    expect(sink.events).toEqual(["rows:2:raw", "errors:0", "state", "commit", "rows:1:raw", "errors:0", "state", "commit"]);
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
    expect(sink.errors[0]).toMatchObject({ error_type: "INSERT_ERROR", source_position: "t/0/6" });
  });

  it("retries a retriable insert failure and loses nothing", async () => {
    const { sink, source, pipeline } = setup();
    sink.failuresLeft = 3;
    await pipeline.onRecords([rec(0, '{"id":1}'), rec(1, '{"id":2}')]);
    await pipeline.flush();
    expect(sink.rows).toHaveLength(2);
    expect(source.commits).toHaveLength(1);
  });
});
