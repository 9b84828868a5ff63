import { describe, expect, it } from "vitest";
import { type BulkDeps, runBulk } from "./bulk.js";
import { DestinationError } from "./errors.js";
import { createLogger } from "./logger.js";
import { IngestMetrics } from "./metrics.js";
import type { DestinationSink, LogRow, StateRow, StatementRequest } from "./sink.js";
import type { BulkInsert, Checkpoint } from "./source.js";
import { SystemLog } from "./system-log.js";

class FakeSink implements DestinationSink {
  readonly state: StateRow[] = [];
  readonly log: LogRow[] = [];
  readonly queries: string[] = [];
  constructor(private readonly outcomes: (number | Error)[]) {}
  insertBody(): Promise<void> {
    return Promise.resolve();
  }
  insertErrors(): Promise<void> {
    return Promise.resolve();
  }
  insertState(rows: readonly StateRow[]): Promise<void> {
    this.state.push(...rows);
    return Promise.resolve();
  }
  insertLog(rows: readonly LogRow[]): Promise<void> {
    this.log.push(...rows);
    return Promise.resolve();
  }
  insertStatement(req: StatementRequest): Promise<{ rows: number }> {
    this.queries.push(req.build("`db`.`t`").query);
    const next = this.outcomes.shift() ?? 0;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve({ rows: next });
  }
}

function deps(sink: FakeSink, committed: Checkpoint[]): BulkDeps {
  const logger = createLogger("ns/p", "silent");
  return {
    pipe: "ns/p",
    sink,
    source: { commit: (c) => Promise.resolve(void committed.push(...c)) },
    table: "t",
    columns: [{ name: "id", type: "UInt64" }],
    retry: { initialMs: 1, maxMs: 2 },
    metrics: new IngestMetrics("ns/p", "bytes"),
    logger,
    log: new SystemLog("ns/p", sink, logger),
  };
}

const bulk = (onRefused: "return" | "skip"): BulkInsert => ({
  stream: "k/a.json",
  position: "done:e1",
  bytes: 100,
  onRefused,
  skippedPosition: "failed:e1",
  statement: (target) => ({ query: `INSERT INTO ${target.table} SELECT 1` }),
});

const refused = (): DestinationError => new DestinationError("Cannot parse input", { retriable: false, dataError: true, code: 27 });

describe("runBulk", () => {
  it("retries a system error, then writes the stream's state row and commits its position", async () => {
    const sink = new FakeSink([new DestinationError("connection refused", { retriable: true }), 42]);
    const committed: Checkpoint[] = [];
    expect(await runBulk(bulk("return"), deps(sink, committed))).toEqual({ status: "inserted", rows: 42 });
    expect(sink.queries).toEqual(["INSERT INTO `db`.`t` SELECT 1", "INSERT INTO `db`.`t` SELECT 1"]);
    expect(sink.log.map((r) => r.error_type)).toEqual(["DESTINATION_ERROR"]);
    expect(sink.state).toMatchObject([{ source_position: "k/a.json", rows: 42, bytes: 100, position: "done:e1" }]);
    expect(committed).toEqual([{ stream: "k/a.json", position: "done:e1" }]);
  });

  it("returns a data refusal to the source without committing anything", async () => {
    const sink = new FakeSink([refused()]);
    const committed: Checkpoint[] = [];
    expect((await runBulk(bulk("return"), deps(sink, committed))).status).toBe("refused");
    expect([sink.state, committed]).toEqual([[], []]);
  });

  it("skip: a SOURCE_ERROR naming the stream, the skipped position committed", async () => {
    const sink = new FakeSink([refused()]);
    const committed: Checkpoint[] = [];
    expect((await runBulk(bulk("skip"), deps(sink, committed))).status).toBe("skipped");
    expect(sink.log).toMatchObject([{ error_type: "SOURCE_ERROR" }]);
    expect(sink.log[0]?.message).toContain("k/a.json");
    expect(committed).toEqual([{ stream: "k/a.json", position: "failed:e1" }]);
    expect(sink.state).toMatchObject([{ rows: 0, position: "failed:e1" }]);
  });
});
