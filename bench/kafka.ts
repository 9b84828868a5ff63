/**
 * Kafka → ClickHouse throughput of one consumer process (`clickpipes run`, spawned as a child
 * so its RSS and CPU are its own), against the ceiling measured in the same run: the raw
 * consume rate of the topic (no processing) and the raw insert rate of the same rows.
 * Then produce-to-queryable latency at half the measured throughput.
 *
 * The peer, in the same run on the same topic: ClickHouse's own Kafka table engine with a
 * materialized view into the same MergeTree table shape, which is what a self-hosted
 * ClickHouse user would pick instead. Both run against a private ClickHouse front started
 * here, so its CPU (/proc) is the destination's share of the work and nobody else's.
 *
 * Env: BENCH_MESSAGES (default 100000 messages of ~1.6 KB), BENCH_SMALL_MESSAGES (default
 * 300000 of ~200 B), BENCH_PEER_MESSAGES (default 300000 of ~1.6 KB for the side-by-side
 * run), BENCH_LATENCY_SECONDS (default 10), BENCH_CLI_MAIN (a prebuilt `main.js` to measure
 * instead of compiling the tree, e.g. a previous release's, for before/after lines).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { Kafka, logLevel } from "kafkajs";
import { stringify } from "yaml";
import { CONSUMER_CLIENT_OPTIONS, createClickHouseClient } from "../src/clickhouse/client.js";
import { destinationError } from "../src/ingest/destination-errors.js";
import { ClickHouseSink } from "../src/ingest/sink.js";
import { loadStackEnv, repoRoot, type StackEnv } from "../test/stack/env.js";
import { up } from "../test/stack/stack.js";
import { type PrivateComponent, privateComponent } from "../test/integration/ingest-helpers.js";
import { DEFAULT_FETCH } from "../src/sources/kafka/source.js";
import { engineDropSql, engineSql } from "./kafka-engine.js";

const PARTITIONS = 3;
const log = (msg: string): void => void process.stderr.write(`[bench kafka ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const columns = [
  ["id", "Int64"], ["sent_ms", "Int64"], ["user_id", "Int64"], ["session_id", "String"], ["event_type", "String"],
  ["ts", "DateTime64(3)"], ["url", "String"], ["referrer", "String"], ["user_agent", "String"], ["country", "String"],
  ["city", "String"], ["device", "String"], ["os", "String"], ["browser", "String"], ["price", "Float64"],
  ["quantity", "Int64"], ["is_mobile", "Bool"], ["tags", "Array(String)"], ["payload", "String"],
].map(([name, type]) => ({ name: name!, type: type! }));

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";

/** A web event of about `size` bytes: realistic fields, padded by `payload`. */
export function message(id: number, size: number, sentMs: number): string {
  const base = {
    id, sent_ms: sentMs, user_id: id * 7919 % 1_000_003, session_id: randomUUID(), event_type: ["view", "click", "purchase"][id % 3],
    ts: new Date(sentMs).toISOString(), url: `https://shop.example.com/products/${id % 5000}?ref=home&utm_source=newsletter`,
    referrer: "https://www.example.org/search?q=clickhouse+kafka", user_agent: UA, country: "FR", city: "Paris",
    device: "desktop", os: "macOS", browser: "Safari", price: (id % 10000) / 100, quantity: id % 5, is_mobile: id % 2 === 0,
    tags: ["a", "bb", "ccc"], payload: "",
  };
  const without = JSON.stringify(base).length;
  base.payload = "x".repeat(Math.max(0, size - without));
  return JSON.stringify(base);
}

async function stackEnv(): Promise<StackEnv> {
  try {
    const env = loadStackEnv();
    if (env.KAFKA_BROKERS !== undefined && env.CLICKHOUSE_URL !== undefined) return env;
  } catch {
    log("no stack env yet, starting kafka and clickhouse");
  }
  return up(["kafka", "clickhouse"]);
}

function kafkaClient(env: StackEnv): Kafka {
  return new Kafka({ clientId: "bench", brokers: [env.KAFKA_BROKERS!], logLevel: logLevel.NOTHING });
}

/** Topics this run created; a run writes ~1.3 GB, which the dev broker would otherwise keep for its retention week. */
const createdTopics: string[] = [];

async function createTopic(env: StackEnv, topic: string): Promise<void> {
  const admin = kafkaClient(env).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  createdTopics.push(topic);
}

/** Deletes the bench's topics (these, or every one `createTopic` made so far). */
export async function deleteTopics(env: StackEnv, topics: string[] = createdTopics.splice(0)): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafkaClient(env).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

async function produceAll(env: StackEnv, topic: string, n: number, size: number): Promise<{ bytes: number }> {
  const producer = kafkaClient(env).producer();
  await producer.connect();
  let bytes = 0;
  const chunk = Math.max(100, Math.floor(800_000 / size));
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += chunk) {
    const messages = Array.from({ length: Math.min(chunk, n - i) }, (_, j) => {
      const value = message(i + j, size, Date.now());
      bytes += value.length;
      return { value, partition: (i + j) % PARTITIONS };
    });
    inFlight.push(producer.send({ topic, messages, acks: 1 }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  return { bytes };
}

/** Ceiling 1: kafkajs fetching the topic with the consumer's fetch sizes, doing nothing with the records. */
export async function rawConsumeRate(env: StackEnv, topic: string, n: number): Promise<number> {
  const consumer = kafkaClient(env).consumer({ groupId: `bench-raw-${randomBytes(4).toString("hex")}`, ...DEFAULT_FETCH, maxWaitTimeInMs: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (first === 0) first = Date.now();
      seen += batch.messages.length;
      last = Date.now();
      await Promise.resolve();
    },
  });
  while (seen < n) await sleep(20);
  await consumer.disconnect();
  return n / ((last - first) / 1000 || 1e-3);
}

/** Ceiling 2: the same rows inserted as one JSONEachRow body per 20 MiB, through the product's client and sink. */
async function rawInsertRate(env: StackEnv, db: string, n: number, size: number): Promise<number> {
  const client = createClickHouseClient({ url: env.CLICKHOUSE_URL!, username: env.CLICKHOUSE_USER!, password: env.CLICKHOUSE_PASSWORD!, database: db }, CONSUMER_CLIENT_OPTIONS);
  const sink = new ClickHouseSink(client, db, destinationError);
  const perBatch = Math.floor((20 << 20) / size);
  const bodies: Buffer[] = [];
  for (let i = 0; i < n; i += perBatch) {
    bodies.push(Buffer.from(Array.from({ length: Math.min(perBatch, n - i) }, (_, j) => message(i + j, size, Date.now())).join("\n") + "\n"));
  }
  await sink.insertBody("ceiling", bodies[0]!.subarray(0, bodies[0]!.indexOf(10) + 1), true);
  // Best of two passes: the machine is shared, a ceiling should not be lowered by a neighbour's burst.
  let best = 0;
  for (let pass = 0; pass < 2; pass++) {
    const t0 = Date.now();
    for (const body of bodies) await sink.insertBody("ceiling", body, true);
    best = Math.max(best, n / ((Date.now() - t0) / 1000));
  }
  await client.close();
  return best;
}

interface PipeOptions {
  readonly name: string;
  readonly db: string;
  readonly topic: string;
  readonly table: string;
  readonly managed: boolean;
  readonly wait: string;
}

function pipeFile(env: StackEnv, { name, db, topic, table, managed, wait }: PipeOptions): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-kafka-"));
  const docs = [
    {
      apiVersion: "clickpipes.io/v1alpha1",
      kind: "ClickPipe",
      metadata: { name, namespace: "bench" },
      spec: {
        source: { kafka: { brokers: env.KAFKA_BROKERS, topics: topic } },
        destination: {
          clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch" } },
          database: db,
          table,
          managedTable: managed,
          columns,
          ...(managed ? { tableDefinition: { engine: { type: "MergeTree" }, sortingKey: ["id"] } } : {}),
        },
        settings: { streamingMaxInsertWaitTime: wait },
      },
    },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ch" }, stringData: { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD } },
  ];
  const file = join(dir, "pipe.yaml");
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

interface Committed {
  readonly at: number;
  readonly rows: number;
  /** The consumer's CPU-seconds when the line was read: steady-state CPU leaves process start-up out. */
  readonly cpu: number;
}

interface Child {
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** Batches as the consumer logs them ("batch committed", debug level): no polling of ClickHouse skews the figures. */
  readonly committed: Committed[];
  maxRssMb: number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const distDir = join(repoRoot, ".stack", "bench-dist");

/**
 * Compile the CLI as the image ships it (tsc, no tsx loader thread in the measured process),
 * into a private directory so a stale dist/ cannot skew the figures.
 */
async function buildCli(): Promise<string> {
  log("compiling the CLI (tsc -p tsconfig.build.json)");
  await new Promise<void>((resolve) => {
    const tsc = spawn(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", distDir], { cwd: repoRoot, stdio: "ignore" });
    // Type errors elsewhere in the tree do not stop tsc from emitting; the spawn below fails loudly if main.js is missing.
    tsc.once("exit", () => resolve());
  });
  return join(distDir, "src/cli/main.js");
}

let cliMain = "";

/** User + system CPU of a process (all its threads) so far, from /proc. */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function spawnConsumer(file: string): Child {
  const child = spawn(process.execPath, [cliMain, "run", "-f", file], {
    cwd: repoRoot,
    env: { ...process.env, CLICKPIPES_HTTP_PORT: "0", LOG_LEVEL: "debug" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const committed: Committed[] = [];
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.includes('"batch committed"')) continue;
      const entry = JSON.parse(line) as { time: string; rows: number };
      committed.push({ at: Date.parse(entry.time), rows: entry.rows, cpu: processCpuSeconds(child.pid!) });
    }
  });
  const state: Child = {
    child,
    startedAt: Date.now(),
    committed,
    maxRssMb: 0,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    stop: async () => {
      clearInterval(timer);
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
  const timer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) state.maxRssMb = Math.max(state.maxRssMb, Number(m[1]) / 1024);
    } catch {
      // The process has exited; the last sample stands.
    }
  }, 100);
  return state;
}

/** End to end through the real CLI: steady-state rows/s between the first and the last full batch. */
/** CPU-seconds per million rows between the first committed batch and the last (start-up and the first fetch left out). */
function steadyCpu(committed: readonly Committed[]): number {
  const first = committed[0];
  const last = committed.at(-1);
  if (first === undefined || last === undefined || last === first) return NaN;
  const rows = committed.slice(1).reduce((acc, c) => acc + c.rows, 0);
  return ((last.cpu - first.cpu) * 1e6) / rows;
}

async function endToEnd(env: StackEnv, db: string, size: number, n: number): Promise<{ rowsPerS: number; mbPerS: number; rssMb: number; mbPerCpuS: number; cpuSPerMillion: number; steadyCpuSPerMillion: number }> {
  const topic = `bench-${size}-${randomBytes(3).toString("hex")}`;
  await createTopic(env, topic);
  log(`producing ${n} messages of ~${size} B`);
  const { bytes } = await produceAll(env, topic, n, size);
  const table = `e2e_${size}`;
  const consumer = spawnConsumer(pipeFile(env, { name: `e2e-${size}`, db, topic, table, managed: true, wait: "1s" }));
  try {
    const deadline = Date.now() + 300_000;
    const total = (): number => consumer.committed.reduce((acc, c) => acc + c.rows, 0);
    while (total() < n) {
      if (Date.now() > deadline || consumer.child.exitCode !== null) throw new Error(`consumer stalled at ${total()}/${n} rows`);
      await sleep(100);
    }
    const cpu = consumer.cpuSeconds();
    // Steady state: between the first and the last full batch (the first pays for warm-up, the last waits for its timer).
    const biggest = Math.max(...consumer.committed.map((c) => c.rows));
    const full = consumer.committed.filter((c) => c.rows >= biggest * 0.9);
    const first = full[0]!;
    const last = full.at(-1)!;
    const rowsPerS = full.slice(1).reduce((acc, c) => acc + c.rows, 0) / ((last.at - first.at) / 1000);
    return { rowsPerS, mbPerS: (rowsPerS * (bytes / n)) / 1e6, rssMb: consumer.maxRssMb, mbPerCpuS: bytes / 1e6 / cpu, cpuSPerMillion: (cpu * 1e6) / n, steadyCpuSPerMillion: steadyCpu(consumer.committed) };
  } finally {
    await consumer.stop();
  }
}

interface SideBySide {
  readonly oursRowsPerS: number;
  readonly engineRowsPerS: number;
  /** CPU-seconds per million rows: our consumer process, the ClickHouse front while it took our rows, the front running the engine. */
  readonly consumerCpu: number;
  /** The consumer's CPU per million rows after its first batch (start-up left out). */
  readonly consumerSteadyCpu: number;
  readonly frontCpuForOurs: number;
  readonly engineCpu: number;
}

async function waitRows(what: string, rows: () => Promise<number> | number, n: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + 600_000;
  let last = 0;
  let lastLog = Date.now();
  while ((last = await rows()) < n) {
    if (Date.now() > deadline || !alive()) throw new Error(`${what} stalled at ${last}/${n} rows`);
    if (Date.now() - lastLog > 10_000) {
      log(`${what}: ${last}/${n} rows`);
      lastLog = Date.now();
    }
    await sleep(100);
  }
}

/**
 * The same topic read twice, one after the other so neither competes with the other: by our
 * consumer into one table, then by the Kafka engine and a materialized view into another.
 * Wall rate from start to the last row queryable (or committed); CPU from /proc.
 */
async function sideBySide(env: StackEnv, ch: ClickHouseClient, db: string, frontPid: number, n: number): Promise<SideBySide> {
  const topic = `bench-peer-${randomBytes(3).toString("hex")}`;
  await createTopic(env, topic);
  log(`side by side: producing ${n} messages of ~1.6 KB`);
  await produceAll(env, topic, n, 1600);
  const front0 = processCpuSeconds(frontPid);
  const consumer = spawnConsumer(pipeFile(env, { name: "side-by-side", db, topic, table: "ours_rows", managed: true, wait: "1s" }));
  let ours: { wall: number; cpu: number; front: number; steady: number };
  try {
    const total = (): number => consumer.committed.reduce((acc, c) => acc + c.rows, 0);
    await waitRows("our consumer", total, n, () => consumer.child.exitCode === null);
    ours = { wall: (Date.now() - consumer.startedAt) / 1000, cpu: consumer.cpuSeconds(), front: processCpuSeconds(frontPid) - front0, steady: steadyCpu(consumer.committed) };
  } finally {
    await consumer.stop();
  }
  log(`side by side: ours ${(n / ours.wall).toFixed(0)} rows/s, consumer ${ours.cpu.toFixed(1)} CPU-s, front ${ours.front.toFixed(1)} CPU-s`);
  const engineStart = Date.now();
  const engineFront0 = processCpuSeconds(frontPid);
  for (const query of engineSql({ db, columns, brokers: env.KAFKA_BROKERS!, topic, group: `bench-engine-${randomBytes(3).toString("hex")}`, partitions: PARTITIONS })) {
    await ch.command({ query });
  }
  const engineRows = async (): Promise<number> => {
    const rows = await (await ch.query({ query: `SELECT count() c FROM ${db}.engine_rows`, format: "JSONEachRow" })).json<{ c: string }>();
    return Number(rows[0]?.c ?? 0);
  };
  try {
    await waitRows("the Kafka engine", engineRows, n);
  } finally {
    for (const query of engineDropSql(db)) await ch.command({ query });
  }
  const engine = { wall: (Date.now() - engineStart) / 1000, front: processCpuSeconds(frontPid) - engineFront0 };
  log(`side by side: Kafka engine ${(n / engine.wall).toFixed(0)} rows/s, front ${engine.front.toFixed(1)} CPU-s`);
  const perMillion = (cpu: number): number => (cpu * 1e6) / n;
  return {
    oursRowsPerS: n / ours.wall,
    engineRowsPerS: n / engine.wall,
    consumerCpu: perMillion(ours.cpu),
    consumerSteadyCpu: ours.steady,
    frontCpuForOurs: perMillion(ours.front),
    engineCpu: perMillion(engine.front),
  };
}

/** p99 of produce → queryable at `rate` messages/s for `seconds`. */
async function latency(env: StackEnv, ch: ClickHouseClient, db: string, rate: number, seconds: number): Promise<{ p99: number; p50: number; achievedRate: number }> {
  const topic = `bench-lat-${randomBytes(3).toString("hex")}`;
  await createTopic(env, topic);
  await ch.command({
    query: `CREATE TABLE ${db}.lat (${columns.map((c) => `${c.name} ${c.type}`).join(", ")}, inserted_at DateTime64(3) DEFAULT now64(3)) ENGINE = MergeTree ORDER BY id`,
  });
  const consumer = spawnConsumer(pipeFile(env, { name: "latency", db, topic, table: "lat", managed: false, wait: "1s" }));
  const producer = kafkaClient(env).producer();
  await producer.connect();
  try {
    await sleep(6_000);
    const latencies: number[] = [];
    let sent = 0;
    let watermark = 0;
    let polling = true;
    const poller = (async () => {
      while (polling || latencies.length < sent) {
        const rows = await (await ch.query({
          query: `SELECT toUnixTimestamp64Milli(max(inserted_at)) m, groupArray(sent_ms) s FROM ${db}.lat WHERE toUnixTimestamp64Milli(inserted_at) > ${watermark}`,
          format: "JSONEachRow",
          clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
        })).json<{ m: number; s: number[] }>();
        const now = Date.now();
        const r = rows[0];
        if (r !== undefined && r.s.length > 0) {
          watermark = r.m;
          for (const s of r.s) latencies.push(now - s);
        }
        await sleep(50);
      }
    })();
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate) - sent;
      if (due > 0) {
        // One produce request holds at most ~1 MB per partition.
        const batch = Math.min(due, 1_000);
        const messages = Array.from({ length: batch }, (_, j) => ({ value: message(sent + j, 1600, Date.now()), partition: (sent + j) % PARTITIONS }));
        await producer.send({ topic, messages, acks: 1 });
        sent += batch;
      }
      await sleep(20);
    }
    const achievedRate = sent / ((Date.now() - t0) / 1000);
    polling = false;
    await Promise.race([poller, sleep(30_000)]);
    latencies.sort((a, b) => a - b);
    const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
    log(`latency: ${latencies.length}/${sent} rows seen, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms at ${achievedRate.toFixed(0)} msg/s`);
    return { p99: pct(0.99), p50: pct(0.5), achievedRate };
  } finally {
    await producer.disconnect();
    await consumer.stop();
  }
}

export async function main(): Promise<Record<string, unknown>> {
  const shared = await stackEnv();
  cliMain = process.env.BENCH_CLI_MAIN ?? (await buildCli());
  log("starting a private ClickHouse front (its CPU is the destination's share)");
  const front: PrivateComponent = await privateComponent("clickhouse");
  const env: StackEnv = { ...shared, ...front.env };
  try {
    return await measure(env, front.pid());
  } finally {
    await front.destroy();
    await deleteTopics(shared).catch((err: unknown) => log(`could not delete the bench's topics: ${String(err)}`));
  }
}

async function measure(env: StackEnv, frontPid: number): Promise<Record<string, unknown>> {
  const n = Number(process.env.BENCH_MESSAGES ?? 100_000);
  const nSmall = Number(process.env.BENCH_SMALL_MESSAGES ?? 300_000);
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, log: { level: ClickHouseLogLevel.OFF } });
  const db = `bench_${randomBytes(4).toString("hex")}`;
  await ch.command({ query: `CREATE DATABASE ${db}` });
  try {
    await ch.command({ query: `CREATE TABLE ${db}.ceiling (${columns.map((c) => `${c.name} ${c.type}`).join(", ")}) ENGINE = MergeTree ORDER BY id` });
    const big = await endToEnd(env, db, 1600, n);
    log(`end to end 1.6 KB: ${big.rowsPerS.toFixed(0)} rows/s, ${big.mbPerS.toFixed(1)} MB/s, RSS ${big.rssMb.toFixed(0)} MiB, ${big.mbPerCpuS.toFixed(1)} MB per CPU-second`);
    const topic = `bench-ceiling-${randomBytes(3).toString("hex")}`;
    await createTopic(env, topic);
    await produceAll(env, topic, n, 1600);
    const consumeRate = await rawConsumeRate(env, topic, n);
    log(`ceiling: raw consume ${consumeRate.toFixed(0)} rows/s`);
    const insertRate = await rawInsertRate(env, db, n, 1600);
    log(`ceiling: raw insert ${insertRate.toFixed(0)} rows/s`);
    const ceiling = Math.min(consumeRate, insertRate);
    const small = await endToEnd(env, db, 200, nSmall);
    log(`end to end 200 B: ${small.rowsPerS.toFixed(0)} rows/s, ${small.mbPerS.toFixed(1)} MB/s, RSS ${small.rssMb.toFixed(0)} MiB`);
    const lat = await latency(env, ch, db, big.rowsPerS / 2, Number(process.env.BENCH_LATENCY_SECONDS ?? 10));
    const peer = await sideBySide(env, ch, db, frontPid, Number(process.env.BENCH_PEER_MESSAGES ?? 300_000));
    const wholePath = peer.consumerCpu + peer.frontCpuForOurs;
    return {
      rows_per_s: Math.round(big.rowsPerS),
      mb_per_s: Number(big.mbPerS.toFixed(1)),
      ceiling_rows_per_s: Math.round(ceiling),
      rss_mb: Math.round(Math.max(big.rssMb, small.rssMb)),
      p99_latency_ms: lat.p99,
      ratio_to_ceiling: Number((big.rowsPerS / ceiling).toFixed(2)),
      consume_ceiling_rows_per_s: Math.round(consumeRate),
      insert_ceiling_rows_per_s: Math.round(insertRate),
      mb_per_cpu_s: Number(big.mbPerCpuS.toFixed(1)),
      small_rows_per_s: Math.round(small.rowsPerS),
      small_mb_per_s: Number(small.mbPerS.toFixed(1)),
      p50_latency_ms: lat.p50,
      latency_rate_msgs_per_s: Math.round(lat.achievedRate),
      batch_wait_ms: 1000,
      cpu_s_per_million: Number(big.cpuSPerMillion.toFixed(1)),
      steady_cpu_s_per_million: Number(big.steadyCpuSPerMillion.toFixed(1)),
      small_cpu_s_per_million: Number(small.cpuSPerMillion.toFixed(1)),
      small_steady_cpu_s_per_million: Number(small.steadyCpuSPerMillion.toFixed(1)),
      small_rss_mb: Math.round(small.rssMb),
      side_rows_per_s: Math.round(peer.oursRowsPerS),
      engine_rows_per_s: Math.round(peer.engineRowsPerS),
      rows_ratio_to_engine: Number((peer.oursRowsPerS / peer.engineRowsPerS).toFixed(2)),
      side_consumer_cpu_s_per_million: Number(peer.consumerCpu.toFixed(1)),
      side_consumer_steady_cpu_s_per_million: Number(peer.consumerSteadyCpu.toFixed(1)),
      side_whole_path_cpu_s_per_million: Number(wholePath.toFixed(1)),
      engine_cpu_s_per_million: Number(peer.engineCpu.toFixed(1)),
      whole_path_cpu_ratio_to_engine: Number((wholePath / peer.engineCpu).toFixed(2)),
    };
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
    await ch.close();
  }
}
