import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createLogger } from "../../src/ingest/logger.js";
import { KinesisRecordSource } from "../../src/sources/kinesis/source.js";
import { count, clickhouse, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { adjacentOpenShards, closedShardIds, createStream, entry, kinesisClient, listShards, mergeShards, putRecords, splitShard, writeKinesisPipeFile } from "./kinesis-helpers.js";
import { RecordingSink } from "../helpers/recording-sink.js";

const env = inject("stackEnv");
const enabled = env.KINESIS_ENDPOINT !== undefined;
const ch = clickhouse(env);
const db = uniqueName("kinesis");
const client = enabled ? kinesisClient(env) : undefined;

beforeAll(async () => {
  if (enabled) await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  if (enabled) await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
  client?.destroy();
});

const COLUMNS = [
  { name: "id", type: "UInt64" },
  { name: "key", type: "String" },
  { name: "n", type: "UInt32" },
];

function value(id: number, key: string, n: number): string {
  return JSON.stringify({ id, key, n });
}

describe.skipIf(!enabled)("Kinesis → ClickHouse (kinesalite)", () => {
  it("ingests 50,000 records over 4 shards: exactly 49,500 rows and 500 error rows with their raw bytes", async () => {
    const stream = uniqueName("events");
    await createStream(client!, stream, 4);
    const total = 50_000;
    const bad = (i: number): boolean => i % 100 === 42;
    const records = Array.from({ length: total }, (_, i) => entry(`k${i}`, bad(i) ? `{"id": ${i}, "key": ` : value(i, `k${i}`, 0)));
    await putRecords(client!, stream, records);
    const file = writeKinesisPipeFile(env, {
      name: "fifty-k",
      database: db,
      table: "events",
      kinesis: { streamName: stream },
      columns: [
        ...COLUMNS,
        { name: "_key", type: "String" },
        { name: "_timestamp", type: "DateTime64(3)" },
        { name: "_stream", type: "String" },
        { name: "_sequence_number", type: "String" },
        { name: "_shard_id", type: "String" },
        { name: "_raw_message", type: "String" },
      ],
      settings: { maxBatchRows: 20_000 },
    });
    const consumer = startConsumer(file);
    try {
      await waitFor(
        "50,000 records in the table or the error table",
        async () => (await count(ch, `SELECT count() FROM ${db}.events`)) + (await count(ch, `SELECT count() FROM ${db}.events_clickpipes_error`)) >= total,
        180_000,
        consumer,
      );
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() FROM ${db}.events`)).toBe(49_500);
    expect(await count(ch, `SELECT count() FROM ${db}.events_clickpipes_error`)).toBe(500);
    const wrong = await queryRows<Record<string, string>>(
      ch,
      `SELECT countIf(key != concat('k', toString(id))) AS wrong_key, countIf(_key != key) AS pkey, countIf(_stream != '${stream}') AS wrong_stream,
              countIf(_shard_id NOT LIKE 'shardId-%') AS shard, countIf(_sequence_number = '') AS seq,
              countIf(abs(dateDiff('second', _timestamp, now64(3))) > 3600) AS ts, countIf(_raw_message != concat('{"id":', toString(id), ',"key":"', key, '","n":0}')) AS raw,
              uniqExact(_shard_id) AS shards, uniqExact(_shard_id, _sequence_number) AS positions, uniqExact(id) AS ids
       FROM ${db}.events`,
    );
    expect(wrong[0]).toEqual({ wrong_key: "0", pkey: "0", wrong_stream: "0", shard: "0", seq: "0", ts: "0", raw: "0", shards: "4", positions: "49500", ids: "49500" });
    const errors = await queryRows<{ error_type: string; raw_message: string; source_position: string }>(
      ch,
      `SELECT error_type, raw_message, source_position FROM ${db}.events_clickpipes_error ORDER BY raw_message LIMIT 1`,
    );
    expect(errors[0]?.error_type).toBe("DECODE_ERROR");
    expect(errors[0]?.raw_message).toMatch(/^\{"id": \d+, "key": $/);
    expect(errors[0]?.source_position).toMatch(new RegExp(`^${stream}/shardId-\\d{12}/\\d+$`));
    const state = await queryRows<{ rows: string; errors: string; streams: string }>(
      ch,
      `SELECT sum(rows) rows, sum(record_errors) errors, uniqExact(source_position) streams FROM ${db}.clickpipes_state WHERE pipe = 'test/fifty-k'`,
    );
    expect(state[0]).toEqual({ rows: "49500", errors: "500", streams: "4" });
  });

  it("keeps every record and each key's order through a split and a merge during ingestion", async () => {
    const stream = uniqueName("reshard");
    await createStream(client!, stream, 2);
    const keys = Array.from({ length: 40 }, (_, k) => `key-${k}`);
    let id = 0;
    const counters = new Map<string, number>();
    const round = async (perKey: number): Promise<void> => {
      const batch = [];
      for (let i = 0; i < perKey; i++) {
        for (const key of keys) {
          const n = (counters.get(key) ?? 0) + 1;
          counters.set(key, n);
          batch.push(entry(key, value(id++, key, n)));
        }
      }
      await putRecords(client!, stream, batch);
    };
    const file = writeKinesisPipeFile(env, { name: "reshard", database: db, table: "reshard", kinesis: { streamName: stream }, columns: [...COLUMNS, { name: "_shard_id", type: "String" }] });
    const consumer = startConsumer(file);
    // The same source in-process, to see the order in which it hands records to the core.
    const sink = new RecordingSink();
    const fatal: Error[] = [];
    const source = new KinesisRecordSource({
      streamName: stream,
      client: kinesisClient(env),
      initial: { type: "TRIM_HORIZON" },
      replica: { index: 0, count: 1 },
      checkpoints: { load: () => Promise.resolve(new Map()) },
      logger: createLogger("test/reshard-inprocess", "warn"),
      onFatal: (err) => fatal.push(err),
      discoveryIntervalMs: 500,
    });
    try {
      await source.start(sink);
      await round(100);
      const before = await listShards(client!, stream);
      await splitShard(client!, stream, before[0]!);
      await round(100);
      const pair = adjacentOpenShards(await listShards(client!, stream));
      expect(pair).toBeDefined();
      await mergeShards(client!, stream, pair![0].ShardId!, pair![1].ShardId!);
      await round(100);
      const total = id;
      await waitFor("every record in ClickHouse and in the in-process sink", async () => sink.records.length >= total && (await count(ch, `SELECT count() FROM ${db}.reshard`)) >= total, 120_000, consumer);
      expect(await stopConsumer(consumer)).toBe(0);

      expect(fatal).toEqual([]);
      // Nothing lost, nothing twice.
      expect(await count(ch, `SELECT count() FROM ${db}.reshard`)).toBe(total);
      expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.reshard`)).toBe(total);
      expect(await count(ch, `SELECT uniqExact(_shard_id) FROM ${db}.reshard`)).toBe(5);
      // Per key, the records came in the order produced: parents were read to their end before their children.
      const last = new Map<string, number>();
      const outOfOrder: string[] = [];
      for (const r of sink.records) {
        const { key, n } = JSON.parse(r.value!.toString()) as { key: string; n: number };
        if (n !== (last.get(key) ?? 0) + 1) outOfOrder.push(`${key}: ${n} after ${last.get(key) ?? 0} (${r.stream})`);
        last.set(key, n);
      }
      expect(outOfOrder.slice(0, 5)).toEqual([]);
      expect(sink.records).toHaveLength(total);
      // The three closed shards (the split parent and the two merged) were finished with an END marker.
      const closed = closedShardIds(await listShards(client!, stream));
      expect(closed).toHaveLength(3);
      const ended = sink.progress.filter((c) => c.position.startsWith("END")).map((c) => c.stream.split("/")[1]);
      expect(ended.sort()).toEqual(closed);
      const states = await queryRows<{ s: string; p: string }>(
        ch,
        `SELECT source_position AS s, argMax(position, last_insert_time) AS p FROM ${db}.clickpipes_state WHERE pipe = 'test/reshard' GROUP BY s ORDER BY s`,
      );
      expect(states.filter((r) => r.p.startsWith("END")).map((r) => r.s.split("/")[1])).toEqual(closed);
    } finally {
      await source.close();
      await stopConsumer(consumer, "SIGKILL");
    }
  });

  it("loses nothing when the consumer is killed (kill -9) mid-batch and restarted", async () => {
    const stream = uniqueName("crash");
    await createStream(client!, stream, 4);
    const total = 40_000;
    await putRecords(client!, stream, Array.from({ length: total }, (_, i) => entry(`k${i % 97}`, value(i, `k${i % 97}`, 0))));
    const file = writeKinesisPipeFile(env, { name: "crash", database: db, table: "crash", kinesis: { streamName: stream }, columns: COLUMNS, settings: { maxBatchRows: 2_000 } });
    const first = startConsumer(file);
    let atKill = 0;
    try {
      // Checkpoints of a few batches are durable and more batches are on their way: kill now.
      await waitFor("a few batches checkpointed", async () => (await count(ch, `SELECT sum(rows) FROM ${db}.clickpipes_state WHERE pipe = 'test/crash'`)) >= 4_000, 120_000, first);
      first.child.kill("SIGKILL");
      await first.exited;
      atKill = await count(ch, `SELECT count() FROM ${db}.crash`);
    } finally {
      await stopConsumer(first, "SIGKILL");
    }
    expect(atKill).toBeLessThan(total);
    const second = startConsumer(file);
    try {
      await waitFor("every id after the restart", async () => (await count(ch, `SELECT uniqExact(id) FROM ${db}.crash`)) >= total, 180_000, second);
      expect(await stopConsumer(second)).toBe(0);
    } finally {
      await stopConsumer(second, "SIGKILL");
    }
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.crash`)).toBe(total);
    // At-least-once: the restart resumed after the checkpoints, so at most the batches in flight at the kill came twice.
    const rows = await count(ch, `SELECT count() FROM ${db}.crash`);
    expect(rows - total).toBeLessThanOrEqual(3 * 2_000 + 4 * 10_000);
    expect(second.log()).toMatch(/"start":"AFTER_SEQUENCE_NUMBER"/);
  });
});
