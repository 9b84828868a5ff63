/**
 * The fault suite's pieces: a steady producer, the per-pipe accounting (what the topic
 * holds against what the table holds), consumers supervised like pods (restarted when they
 * exit), and the table printed at the end.
 */
import type { ClickHouseClient } from "@clickhouse/client";
import type { Producer } from "kafkajs";
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
