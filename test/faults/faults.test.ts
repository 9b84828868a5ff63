/**
 * The product's fault suite (`npm run test:faults`): an at-least-once and an exactly-once
 * pipe consume two topics under a steady load while each fault is repeated; after each
 * fault the load stops, the consumers catch up, and the topics are accounted against the
 * tables (records produced, distinct positions in the table, lost, duplicates, error rows).
 * Exactly-once: 0 lost, 0 duplicates. At-least-once: 0 lost, duplicates at most one batch per
 * fault. Brokers and ClickHouse that are restarted, frozen or stopped are private instances
 * started here (their own ports and state dirs), never the shared stack.
 */
import { type ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type PrivateComponent, clickhouse, createTopic, privateComponent, uniqueName, waitFor, writePipeFile } from "../integration/ingest-helpers.js";
import { type PipeUnderTest, type Row, type Suite, Supervised, log, sleep, table, underLoad } from "./harness.js";

const KILLS = Number(process.env.FAULT_KILLS ?? 20);
const REPS = Number(process.env.FAULT_REPS ?? 2);
const OUTAGE_S = Number(process.env.FAULT_OUTAGE_SECONDS ?? 60);
const FREEZE_S = Number(process.env.FAULT_FREEZE_SECONDS ?? 30);
const RATE = Number(process.env.FAULT_RATE ?? 1_000);
const MAX_BATCH_ROWS = 5_000;

let broker: PrivateComponent;
let chServer: PrivateComponent;
let ch: ClickHouseClient;
let env: Record<string, string>;
const pipes: PipeUnderTest[] = [];
const consumers = new Map<PipeUnderTest, Supervised[]>();
const rows: Row[] = [];
let suite: Suite;

const columns = [
  { name: "id", type: "UInt64" },
  { name: "payload", type: "String" },
  { name: "_partition", type: "Int32" },
  { name: "_offset", type: "Int64" },
];

function pipeFile(mode: PipeUnderTest["mode"], topic: string, tableName: string): string {
  return writePipeFile(env, {
    name: `faults-${mode}`,
    database: "faults",
    table: tableName,
    kafka: { brokers: env.KAFKA_BROKERS, topics: topic },
    columns,
    clickhouseUrl: env.CLICKHOUSE_URL,
    settings: { streamingMaxInsertWaitTime: "1s", maxBatchRows: MAX_BATCH_ROWS, exactlyOnce: mode === "exactly-once" },
  });
}

function primary(p: PipeUnderTest): Supervised {
  return (consumers.get(p) as Supervised[])[0] as Supervised;
}

beforeAll(async () => {
  log("starting a private Kafka broker and a private ClickHouse front");
  [broker, chServer] = await Promise.all([privateComponent("kafka"), privateComponent("clickhouse")]);
  env = { ...broker.env, ...chServer.env };
  ch = clickhouse(env);
  await ch.command({ query: "CREATE DATABASE IF NOT EXISTS faults" });
  for (const mode of ["at-least-once", "exactly-once"] as const) {
    const topic = uniqueName(mode === "exactly-once" ? "faults_eo" : "faults_alo");
    // A broker just started may not host the new partitions at once: retried (creating an existing topic is a no-op).
    await waitFor(`topic ${topic}`, async () => {
      await createTopic(env, topic, 3);
      return true;
    }, 60_000);
    const t = mode === "exactly-once" ? "events_eo" : "events_alo";
    const p: PipeUnderTest = { mode, topic, db: "faults", table: t, file: pipeFile(mode, topic, t) };
    pipes.push(p);
    consumers.set(p, [new Supervised(p.file)]);
  }
  suite = { env, ch, pipes, rows, rate: RATE, maxBatchRows: MAX_BATCH_ROWS };
}, 600_000);

afterAll(async () => {
  for (const list of consumers.values()) for (const c of list) await c.stop("SIGKILL");
  process.stderr.write(`\nFault suite accounting (${new Date().toISOString()}):\n${table(rows)}\n\n`);
  await ch?.close();
  await broker?.destroy();
  await chServer?.destroy();
}, 120_000);

describe("Kafka delivery under faults, at-least-once and exactly-once", () => {
  it(`kill -9 of the consumers mid-batch (×${KILLS})`, async () => {
    await underLoad(suite, "consumer kill -9 mid-batch", KILLS, async () => {
      for (let i = 0; i < KILLS; i++) {
        // Started, joined and inserting: a batch is being filled or inserted when the kill comes.
        await sleep(2_500 + Math.floor(Math.random() * 2_000));
        await Promise.all(pipes.map((p) => primary(p).kill9()));
      }
    });
  });

  it(`broker restart (×${REPS})`, async () => {
    await underLoad(suite, "broker restart", REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        await broker.stop();
        await sleep(2_000);
        await broker.start();
        await sleep(8_000);
      }
    });
  });

  it(`ClickHouse restart (×${REPS})`, async () => {
    await underLoad(suite, "ClickHouse restart", REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        await chServer.stop();
        await chServer.start();
        await sleep(6_000);
      }
    });
  });

  it(`ClickHouse outage of ${OUTAGE_S} s (×${REPS})`, async () => {
    await underLoad(suite, `ClickHouse outage ${OUTAGE_S} s`, REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        await chServer.stop();
        await sleep(OUTAGE_S * 1000);
        await chServer.start();
        await sleep(10_000);
      }
    });
  });

  it(`broker frozen (SIGSTOP) for ${FREEZE_S} s (×${REPS})`, async () => {
    await underLoad(suite, `broker frozen ${FREEZE_S} s`, REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        broker.signal("SIGSTOP");
        try {
          await sleep(FREEZE_S * 1000);
        } finally {
          broker.signal("SIGCONT");
        }
        await sleep(10_000);
      }
    });
  });

  it(`rebalance: scaling 1 → 3 → 1 consumers per pipe (×${REPS})`, async () => {
    await underLoad(suite, "rebalance 1→3→1", REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        for (const p of pipes) consumers.get(p)?.push(new Supervised(p.file), new Supervised(p.file));
        await sleep(15_000);
        for (const p of pipes) {
          const list = consumers.get(p) as Supervised[];
          await Promise.all(list.splice(1).map((c) => c.stop("SIGTERM")));
        }
        await sleep(10_000);
      }
    });
  });

});
