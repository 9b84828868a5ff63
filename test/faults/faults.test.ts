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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivateComponent, clickhouse, createTopic, privateComponent, uniqueName, writePipeFile } from "../integration/ingest-helpers.js";
import { type Counts, Load, type PipeUnderTest, type Row, Supervised, counts, log, row, sleep, table } from "./harness.js";

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

async function snapshot(): Promise<Map<PipeUnderTest, Counts>> {
  return new Map(await Promise.all(pipes.map(async (p) => [p, await counts(env, ch, p)] as const)));
}

/** Until every pipe's table holds every record of its topic (or the deadline: then the rows say what is lost). */
async function drain(timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const now = await snapshot();
      if ([...now.values()].every((c) => c.distinct >= c.produced)) return;
    } catch {
      // ClickHouse or the broker still coming back.
    }
    await sleep(1_000);
  }
  log("drain timed out: the rows below show what is missing");
}

/** Runs `fault` under load, lets the pipes catch up, and records one row per mode. */
async function underLoad(fault: string, repetitions: number, act: () => Promise<void>): Promise<Row[]> {
  await drain();
  const before = await snapshot();
  const load = new Load(env, pipes.map((p) => p.topic), RATE);
  load.start();
  log(`${fault} ×${repetitions}: start`);
  try {
    await sleep(3_000);
    await act();
    await sleep(3_000);
  } finally {
    await load.stop();
  }
  await drain();
  const after = await snapshot();
  const made = pipes.map((p) => row(fault, repetitions, p.mode, before.get(p) as Counts, after.get(p) as Counts));
  for (const r of made) log(`${fault} ${r.mode}: produced ${r.produced}, in table ${r.inTable}, lost ${r.lost}, duplicates ${r.duplicates}, error rows ${r.errorRows}`);
  rows.push(...made);
  return made;
}

function expectDelivery(made: readonly Row[], repetitions: number): void {
  for (const r of made) {
    expect(r.produced, `${r.fault} ${r.mode}: records produced`).toBeGreaterThan(0);
    expect(r.lost, `${r.fault} ${r.mode}: lost`).toBe(0);
    expect(r.errorRows, `${r.fault} ${r.mode}: error rows`).toBe(0);
    if (r.mode === "exactly-once") expect(r.duplicates, `${r.fault} exactly-once: duplicates`).toBe(0);
    else expect(r.duplicates, `${r.fault} at-least-once: duplicates`).toBeLessThanOrEqual(repetitions * MAX_BATCH_ROWS);
  }
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
    await createTopic(env, topic, 3);
    const t = mode === "exactly-once" ? "events_eo" : "events_alo";
    const p: PipeUnderTest = { mode, topic, db: "faults", table: t, file: pipeFile(mode, topic, t) };
    pipes.push(p);
    consumers.set(p, [new Supervised(p.file)]);
  }
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
    const made = await underLoad("consumer kill -9 mid-batch", KILLS, async () => {
      for (let i = 0; i < KILLS; i++) {
        // Started, joined and inserting: a batch is being filled or inserted when the kill comes.
        await sleep(2_500 + Math.floor(Math.random() * 2_000));
        await Promise.all(pipes.map((p) => primary(p).kill9()));
      }
    });
    expectDelivery(made, KILLS);
  });

  it(`broker restart (×${REPS})`, async () => {
    const made = await underLoad("broker restart", REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        await broker.stop();
        await sleep(2_000);
        await broker.start();
        await sleep(8_000);
      }
    });
    expectDelivery(made, REPS);
  });

  it(`ClickHouse restart (×${REPS})`, async () => {
    const made = await underLoad("ClickHouse restart", REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        await chServer.stop();
        await chServer.start();
        await sleep(6_000);
      }
    });
    expectDelivery(made, REPS);
  });

  it(`ClickHouse outage of ${OUTAGE_S} s (×${REPS})`, async () => {
    const made = await underLoad(`ClickHouse outage ${OUTAGE_S} s`, REPS, async () => {
      for (let i = 0; i < REPS; i++) {
        await chServer.stop();
        await sleep(OUTAGE_S * 1000);
        await chServer.start();
        await sleep(10_000);
      }
    });
    expectDelivery(made, REPS);
  });

  it(`broker frozen (SIGSTOP) for ${FREEZE_S} s (×${REPS})`, async () => {
    const made = await underLoad(`broker frozen ${FREEZE_S} s`, REPS, async () => {
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
    expectDelivery(made, REPS);
  });

  it(`rebalance: scaling 1 → 3 → 1 consumers per pipe (×${REPS})`, async () => {
    const made = await underLoad("rebalance 1→3→1", REPS, async () => {
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
    expectDelivery(made, REPS);
  });

});
