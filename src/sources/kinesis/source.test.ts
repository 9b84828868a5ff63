import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../ingest/logger.js";
import type { InitialIterator } from "./shards.js";
import { KinesisRecordSource } from "./source.js";
import { RecordingSink } from "../../../test/helpers/recording-sink.js";

/** An in-memory Kinesis answering the three polling calls, with failures to inject. */
class FakeKinesis {
  readonly shards = new Map<string, { parents: string[]; closed: boolean; records: string[] }>();
  readonly iteratorTypes: string[] = [];
  /** Errors (by AWS name) the next GetRecords calls throw. */
  failNext: string[] = [];

  add(id: number, records: number, opts: { parents?: number[]; closed?: boolean } = {}): void {
    const shardId = `shardId-${String(id).padStart(12, "0")}`;
    const data = Array.from({ length: records }, (_, i) => `${shardId}:${i}`);
    this.shards.set(shardId, { parents: (opts.parents ?? []).map((p) => `shardId-${String(p).padStart(12, "0")}`), closed: opts.closed ?? false, records: data });
  }

  send(cmd: unknown): Promise<unknown> {
    const failure = cmd instanceof GetRecordsCommand ? this.failNext.shift() : undefined;
    if (failure !== undefined) {
      const err = new Error(failure);
      err.name = failure;
      return Promise.reject(err);
    }
    if (cmd instanceof ListShardsCommand) return Promise.resolve({ Shards: [...this.shards].map(([id, s]) => this.describe(id, s)) });
    if (cmd instanceof GetShardIteratorCommand) return Promise.resolve({ ShardIterator: this.iterator(cmd.input) });
    if (cmd instanceof GetRecordsCommand) return Promise.resolve(this.read(cmd.input.ShardIterator ?? "", cmd.input.Limit ?? 10_000));
    return Promise.reject(new Error("unexpected command"));
  }

  destroy(): void {}

  private describe(id: string, s: { parents: string[]; closed: boolean }): unknown {
    return { ShardId: id, ParentShardId: s.parents[0], AdjacentParentShardId: s.parents[1], SequenceNumberRange: { StartingSequenceNumber: "0", ...(s.closed ? { EndingSequenceNumber: "9" } : {}) } };
  }

  private iterator(input: GetShardIteratorCommand["input"]): string {
    const shard = this.shards.get(input.ShardId ?? "")!;
    this.iteratorTypes.push(`${input.ShardId}:${input.ShardIteratorType}${input.StartingSequenceNumber === undefined ? "" : `:${input.StartingSequenceNumber}`}`);
    const at = input.ShardIteratorType === "LATEST" ? shard.records.length : input.ShardIteratorType === "AFTER_SEQUENCE_NUMBER" ? Number(input.StartingSequenceNumber) + 1 : 0;
    return `${input.ShardId}|${at}`;
  }

  private read(iterator: string, limit: number): unknown {
    const [id, at] = iterator.split("|") as [string, string];
    const shard = this.shards.get(id)!;
    const from = Number(at);
    const records = shard.records.slice(from, from + limit).map((d, i) => ({ Data: Buffer.from(d), PartitionKey: "k", SequenceNumber: String(from + i), ApproximateArrivalTimestamp: new Date() }));
    const next = from + records.length;
    const ended = shard.closed && next >= shard.records.length;
    return { Records: records, MillisBehindLatest: shard.records.length - next, ...(ended ? {} : { NextShardIterator: `${id}|${next}` }) };
  }
}

function open(fake: FakeKinesis, o: { stored?: Map<string, string>; replica?: { index: number; count: number }; initial?: InitialIterator; fatal?: Error[] } = {}): KinesisRecordSource {
  return new KinesisRecordSource({
    streamName: "s",
    client: fake as unknown as KinesisClient,
    initial: o.initial ?? { type: "TRIM_HORIZON" },
    replica: o.replica ?? { index: 0, count: 1 },
    checkpoints: { load: () => Promise.resolve(o.stored ?? new Map()) },
    logger: createLogger("test/kinesis-source", "silent"),
    onFatal: (err) => o.fatal?.push(err),
    limits: { minCallIntervalMs: 1, bytesPerSecond: 1e12, idleMs: 5, maxRecordsPerCall: 3 },
    discoveryIntervalMs: 20,
  });
}

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sid = (n: number): string => `shardId-${String(n).padStart(12, "0")}`;
const order = (sink: RecordingSink): string[] => sink.records.map((r) => r.value!.toString());

describe("KinesisRecordSource", () => {
  it("reads a split's children only after the parent's last record and its END marker", async () => {
    const fake = new FakeKinesis();
    fake.add(0, 7, { closed: true });
    fake.add(1, 4, { parents: [0] });
    fake.add(2, 4, { parents: [0] });
    const sink = new RecordingSink();
    const source = open(fake);
    await source.start(sink);
    await until("all records", () => sink.records.length === 15);
    await source.close();
    const got = order(sink);
    expect(got.slice(0, 7)).toEqual(Array.from({ length: 7 }, (_, i) => `${sid(0)}:${i}`));
    expect(sink.progress).toEqual([{ stream: `s/${sid(0)}`, position: "END:6" }]);
    expect(fake.iteratorTypes.sort()).toEqual([`${sid(0)}:TRIM_HORIZON`, `${sid(1)}:TRIM_HORIZON`, `${sid(2)}:TRIM_HORIZON`]);
  });

  it("waits for every parent of a merge", async () => {
    const fake = new FakeKinesis();
    fake.add(0, 5, { closed: true });
    fake.add(1, 2, { closed: true });
    fake.add(2, 3, { parents: [0, 1] });
    const sink = new RecordingSink();
    const source = open(fake);
    await source.start(sink);
    await until("all records", () => sink.records.length === 10);
    await source.close();
    const got = order(sink);
    const firstChild = got.findIndex((r) => r.startsWith(sid(2)));
    expect(firstChild).toBe(7);
  });

  it("resumes after the checkpoints; a shard with an END checkpoint is not read again", async () => {
    const fake = new FakeKinesis();
    fake.add(0, 5, { closed: true });
    fake.add(1, 5, { parents: [0] });
    const sink = new RecordingSink();
    const source = open(fake, { stored: new Map([[`s/${sid(0)}`, "END:4"], [`s/${sid(1)}`, "2"], ["other/shardId-000000000009", "7"]]) });
    await source.start(sink);
    await until("the rest of shard 1", () => sink.records.length === 2);
    await source.close();
    expect(order(sink)).toEqual([`${sid(1)}:3`, `${sid(1)}:4`]);
    expect(fake.iteratorTypes).toEqual([`${sid(1)}:AFTER_SEQUENCE_NUMBER:2`]);
  });

  it("splits shards between replicas; a child waits for a parent another replica reads until its END is in the store", async () => {
    const fake = new FakeKinesis();
    fake.add(0, 3, { closed: true });
    fake.add(1, 3, { parents: [0] });
    const stored = new Map<string, string>();
    const sink = new RecordingSink();
    // Replica 1 of 2 owns shard 1 only; shard 0 is replica 0's.
    const source = open(fake, { stored, replica: { index: 1, count: 2 } });
    await source.start(sink);
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.records).toHaveLength(0);
    expect(source.reading).toEqual([]);
    stored.set(`s/${sid(0)}`, "END:2");
    await until("shard 1 read after its parent's END", () => sink.records.length === 3);
    await source.close();
    expect(order(sink)).toEqual([`${sid(1)}:0`, `${sid(1)}:1`, `${sid(1)}:2`]);
    expect(fake.iteratorTypes).toEqual([`${sid(1)}:TRIM_HORIZON`]);
  });

  it("LATEST skips closed shards and starts the open ones at the tip", async () => {
    const fake = new FakeKinesis();
    fake.add(0, 3, { closed: true });
    fake.add(1, 3, { parents: [0] });
    const sink = new RecordingSink();
    const source = open(fake, { initial: { type: "LATEST" } });
    await source.start(sink);
    await until("shard 1 open", () => source.reading.length === 1);
    fake.shards.get(sid(1))!.records.push(`${sid(1)}:new`);
    await until("the new record", () => sink.records.length === 1);
    await source.close();
    expect(order(sink)).toEqual([`${sid(1)}:new`]);
    expect(fake.iteratorTypes).toEqual([`${sid(1)}:LATEST`]);
    expect(sink.progress).toEqual([]);
  });

  it("backs off when throttled, renews an expired iterator after the last record, and reports lag in ms", async () => {
    const fake = new FakeKinesis();
    fake.add(0, 3);
    const sink = new RecordingSink();
    const fatal: Error[] = [];
    const source = open(fake, { fatal });
    await source.start(sink);
    await until("first records", () => sink.records.length === 3);
    fake.failNext = ["ProvisionedThroughputExceededException", "ExpiredIteratorException"];
    fake.shards.get(sid(0))!.records.push(`${sid(0)}:3`, `${sid(0)}:4`, `${sid(0)}:5`);
    await until("all records", () => sink.records.length === 6, 10_000);
    expect((await source.lag()).get(`s/${sid(0)}`)).toBe(0);
    await source.close();
    expect(fatal).toEqual([]);
    expect(new Set(order(sink)).size).toBe(6);
    expect(fake.iteratorTypes).toEqual([`${sid(0)}:TRIM_HORIZON`, `${sid(0)}:AFTER_SEQUENCE_NUMBER:2`]);
  });

  it("stops for good on an error retrying cannot fix", async () => {
    const fake = new FakeKinesis();
    fake.add(0, 3);
    const fatal: Error[] = [];
    const source = open(fake, { fatal });
    await source.start(new RecordingSink());
    fake.failNext = ["InvalidArgumentException"];
    await until("onFatal", () => fatal.length === 1);
    await source.close();
    expect(fatal[0]?.message).toMatch(/InvalidArgumentException/);
  });
});
