/**
 * The fault suite's pieces: a steady producer, the per-pipe accounting (what the topic
 * holds against what the table holds), consumers supervised like pods (restarted when they
 * exit), and the table printed at the end.
 */
import type { ClickHouseClient } from "@clickhouse/client";
import type { Producer } from "kafkajs";
import { expect } from "vitest";
import { type Consumer, count, kafka, startConsumer, stopConsumer, type StackEnv } from "../integration/ingest-helpers.js";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (m: string): void => void process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
export { log };

/** Produces `{id, payload}` records round-robin at about `perSecond` per topic until stopped; a broker that is away only pauses it. */
export class Load {
  private running = true;
  private done: Promise<void> = Promise.resolve();
  private next = 0;

  constructor(
    private readonly env: StackEnv,
    private readonly topics: readonly string[],
    private readonly perSecond: number,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    let producer: Producer | undefined;
    const tick = 100;
    while (this.running) {
      try {
        if (producer === undefined) {
          producer = kafka(this.env, { retry: { retries: 2, initialRetryTime: 200 }, requestTimeout: 5_000 }).producer();
          await producer.connect();
        }
        const n = Math.max(1, Math.round((this.perSecond * tick) / 1000));
        for (const topic of this.topics) {
          const messages = Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ id: this.next + i, payload: "x".repeat(200) }) }));
          await producer.send({ topic, messages, acks: -1 });
        }
        this.next += n;
        await sleep(tick);
      } catch {
        // The broker is away (restarted, frozen): what was acknowledged is counted from the topic's end offsets, not here.
        await producer?.disconnect().catch(() => undefined);
        producer = undefined;
        await sleep(500);
      }
    }
    await producer?.disconnect().catch(() => undefined);
  }
}

export interface Counts {
  /** Records in the topic: the sum of its partitions' end offsets (no transactions, so offsets are dense). */
  readonly produced: number;
  readonly rows: number;
  readonly distinct: number;
  readonly errors: number;
}

export interface PipeUnderTest {
  readonly mode: "at-least-once" | "exactly-once";
  readonly topic: string;
  readonly db: string;
  readonly table: string;
  readonly file: string;
}

export async function counts(env: StackEnv, ch: ClickHouseClient, pipe: PipeUnderTest): Promise<Counts> {
  const admin = kafka(env).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(pipe.topic);
    const produced = offsets.reduce((acc, p) => acc + Number(p.high), 0);
    return {
      produced,
      rows: await count(ch, `SELECT count() c FROM ${pipe.db}.${pipe.table}`),
      distinct: await count(ch, `SELECT uniqExact(_partition, _offset) c FROM ${pipe.db}.${pipe.table}`),
      errors: await count(ch, `SELECT count() c FROM ${pipe.db}.${pipe.table}_clickpipes_error`),
    };
  } finally {
    await admin.disconnect();
  }
}

export interface Row {
  readonly fault: string;
  readonly mode: string;
  readonly repetitions: number;
  readonly produced: number;
  readonly inTable: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly errorRows: number;
}

export function row(fault: string, repetitions: number, mode: string, before: Counts, after: Counts): Row {
  const produced = after.produced - before.produced;
  const inTable = after.distinct - before.distinct;
  return {
    fault,
    mode,
    repetitions,
    produced,
    inTable,
    lost: produced - inTable,
    duplicates: after.rows - after.distinct - (before.rows - before.distinct),
    errorRows: after.errors - before.errors,
  };
}

export function table(rows: readonly Row[]): string {
  const head = "| fault | mode | repetitions | produced | in table | lost | duplicates | error rows |";
  const lines = rows.map((r) => `| ${r.fault} | ${r.mode} | ${r.repetitions} | ${r.produced} | ${r.inTable} | ${r.lost} | ${r.duplicates} | ${r.errorRows} |`);
  return [head, "|---|---|---:|---:|---:|---:|---:|---:|", ...lines].join("\n");
}

/** A consumer process restarted when it exits on its own (as a pod's restartPolicy does), until stopped. */
export class Supervised {
  private current: Consumer;
  private stopped = false;
  restarts = 0;

  constructor(private readonly file: string) {
    this.current = this.spawn();
  }

  get consumer(): Consumer {
    return this.current;
  }

  /** kill -9 and start a new process at once. */
  async kill9(): Promise<void> {
    const old = this.current;
    this.stopped = true;
    await stopConsumer(old, "SIGKILL");
    this.stopped = false;
    this.current = this.spawn();
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.stopped = true;
    await stopConsumer(this.current, signal);
  }

  private spawn(): Consumer {
    const c = startConsumer(this.file, { LOG_LEVEL: "info" });
    void c.exited.then(async (code) => {
      if (this.stopped || this.current !== c) return;
      log(`consumer of ${this.file} exited with ${String(code)}; restarting it`);
      this.restarts++;
      await sleep(1_000);
      if (!this.stopped && this.current === c) this.current = this.spawn();
    });
    return c;
  }
}

/** One fault suite's pipes, where they write, and the rows accounted so far. */
export interface Suite {
  readonly env: StackEnv;
  readonly ch: ClickHouseClient;
  readonly pipes: readonly PipeUnderTest[];
  readonly rows: Row[];
  /** Records per second and topic while a fault runs. */
  readonly rate: number;
  /** The pipes' maxBatchRows: at-least-once may repeat at most one batch per fault. */
  readonly maxBatchRows: number;
}

async function snapshot(suite: Suite): Promise<Map<PipeUnderTest, Counts>> {
  return new Map(await Promise.all(suite.pipes.map(async (p) => [p, await counts(suite.env, suite.ch, p)] as const)));
}

/** Until every pipe's table holds every record of its topic (or the deadline: then the rows say what is lost). */
async function drain(suite: Suite, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ([...(await snapshot(suite)).values()].every((c) => c.distinct >= c.produced)) return;
    } catch {
      // ClickHouse or the broker still coming back.
    }
    await sleep(1_000);
  }
  log("drain timed out: the rows below show what is missing");
}

/**
 * Runs `act` (the fault, repeated) under load, lets the pipes catch up, records one row per
 * pipe, and checks it: nothing lost, no error rows; exactly-once no duplicate; at-least-once
 * at most one batch per repetition.
 */
export async function underLoad(suite: Suite, fault: string, repetitions: number, act: () => Promise<void>): Promise<void> {
  await drain(suite);
  const before = await snapshot(suite);
  const load = new Load(suite.env, suite.pipes.map((p) => p.topic), suite.rate);
  load.start();
  log(`${fault} ×${repetitions}: start`);
  try {
    await sleep(3_000);
    await act();
    await sleep(3_000);
  } finally {
    await load.stop();
  }
  await drain(suite);
  const after = await snapshot(suite);
  const made = suite.pipes.map((p) => row(fault, repetitions, p.mode, before.get(p) as Counts, after.get(p) as Counts));
  suite.rows.push(...made);
  for (const r of made) {
    log(`${fault} ${r.mode}: produced ${r.produced}, in table ${r.inTable}, lost ${r.lost}, duplicates ${r.duplicates}, error rows ${r.errorRows}`);
    expect(r.produced, `${r.fault} ${r.mode}: records produced`).toBeGreaterThan(0);
    expect(r.lost, `${r.fault} ${r.mode}: lost`).toBe(0);
    expect(r.errorRows, `${r.fault} ${r.mode}: error rows`).toBe(0);
    if (r.mode === "exactly-once") expect(r.duplicates, `${r.fault} exactly-once: duplicates`).toBe(0);
    else expect(r.duplicates, `${r.fault} at-least-once: duplicates`).toBeLessThanOrEqual(repetitions * suite.maxBatchRows);
  }
}
