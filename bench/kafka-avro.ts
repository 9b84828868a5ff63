/**
 * AvroConfluent throughput with ~1.6 KB records (the JSON bench's web event as Avro), against
 * ClickPipes' published 99 MB/s per 1-vCPU replica and a 1.5× target of 148.5 MB/s per core
 * of consumer CPU, with peers and ceilings measured in the same run:
 *
 * - decode: the product's decoder and mapper turning framed records into insert rows, in this
 *   process, per CPU-second (CPU per million records), beside avsc's bare decode (the ceiling
 *   of any Avro decoding in JavaScript) and JSON.parse of the same events as JSON (the JSON path);
 * - end to end: `clickpipes run` (compiled, a child process so its CPU is its own) from the
 *   topic into ClickHouse: MB/s and MB per CPU-second of the consumer, once decoding in the
 *   consumer and once with `formatOptions.avroDecoding: clickhouse` (the consumer sends the frames);
 * - ClickHouse decoding the frames itself: the same framed records inserted as
 *   `FORMAT AvroConfluent` with `format_avro_schema_registry_url`, the alternative the issue names;
 * - the raw consume rate of the topic (kafkajs doing nothing with the records).
 *
 * Env: BENCH_MESSAGES (default 100000); BENCH_CPU_PROF=<dir> to profile the consumer.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import avro from "avsc";
import { Kafka, logLevel } from "kafkajs";
import { stringify } from "yaml";
import { AvroConfluentDecoder } from "../src/ingest/decoders/avro-confluent.js";
import { type DecodedRecord, decodeJsonObject, looksLikeJsonObject } from "../src/ingest/decoders/json.js";
import { compileMapper } from "../src/ingest/mapper.js";
import { TableBatch } from "../src/ingest/table-batch.js";
import type { RawRecord } from "../src/ingest/source.js";
import { KAFKA_VIRTUAL_COLUMNS } from "../src/sources/kafka/virtual-columns.js";
import { loadStackEnv, repoRoot, type StackEnv } from "../test/stack/env.js";
import { up } from "../test/stack/stack.js";
import { columns, deleteTopics, message, rawConsumeRate } from "./kafka.js";

const PARTITIONS = 3;
const SIZE = 1600;
const CLICKPIPES_MB_PER_CORE = 99;
const log = (msg: string): void => void process.stderr.write(`[bench kafka-avro ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The JSON bench's event as an Avro record, field for field. */
const schema = {
  type: "record",
  name: "WebEvent",
  namespace: "bench",
  fields: [
    { name: "id", type: "long" },
    { name: "sent_ms", type: "long" },
    { name: "user_id", type: "long" },
    { name: "session_id", type: "string" },
    { name: "event_type", type: "string" },
    { name: "ts", type: { type: "long", logicalType: "timestamp-millis" } },
    ...["url", "referrer", "user_agent", "country", "city", "device", "os", "browser"].map((name) => ({ name, type: "string" })),
    { name: "price", type: "double" },
    { name: "quantity", type: "long" },
    { name: "is_mobile", type: "boolean" },
    { name: "tags", type: { type: "array", items: "string" } },
    { name: "payload", type: "string" },
  ],
};
const writer = avro.Type.forSchema(schema as avro.Schema);

/** A framed AvroConfluent record of SIZE bytes (±1 for the payload's length varint): the JSON event's fields, the padding resized. */
function frame(id: number, schemaId: number, sentMs: number): Buffer {
  const event = JSON.parse(message(id, SIZE, sentMs)) as Record<string, unknown>;
  event.ts = sentMs;
  event.payload = "";
  const bare = writer.toBuffer(event).length + 5;
  const body = writer.toBuffer({ ...event, payload: "x".repeat(Math.max(0, SIZE - bare - 2)) });
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

async function stackEnv(): Promise<StackEnv> {
  try {
    const env = loadStackEnv();
    if (env.KAFKA_BROKERS !== undefined && env.CLICKHOUSE_URL !== undefined && env.SCHEMA_REGISTRY_URL !== undefined) return env;
  } catch {
    log("no stack env yet");
  }
  log("starting kafka, clickhouse and schema-registry");
  return up(["kafka", "clickhouse", "schema-registry"]);
}

const basic = (user: string | undefined, password: string | undefined): string => `Basic ${Buffer.from(`${user ?? ""}:${password ?? ""}`).toString("base64")}`;

async function register(env: StackEnv, subject: string): Promise<number> {
  const response = await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects/${subject}/versions`, {
    method: "POST",
    headers: { authorization: basic(env.SCHEMA_REGISTRY_USER, env.SCHEMA_REGISTRY_PASSWORD), "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  if (!response.ok) throw new Error(`registering the bench schema: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: number }).id;
}

/** CPU seconds of this process spent in `fn`, best of three passes (the machine is shared). */
async function cpuSeconds(fn: () => Promise<void> | void): Promise<number> {
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(t0);
    best = Math.min(best, (d.user + d.system) / 1e6);
  }
  return best;
}

interface DecodeFigures {
  readonly productMbPerCpuS: number;
  readonly productCpuSPerMillion: number;
  readonly avscMbPerCpuS: number;
  readonly jsonMbPerCpuS: number;
  readonly batchAvroMbPerCpuS: number;
  readonly batchJsonPassthroughMbPerCpuS: number;
  readonly batchJsonMappedMbPerCpuS: number;
}

/** The decoder and mapper as the consumer runs them (one row line per record), beside avsc alone and JSON.parse. */
async function decodeRates(env: StackEnv, frames: readonly Buffer[]): Promise<DecodeFigures> {
  const decoder = new AvroConfluentDecoder({ url: env.SCHEMA_REGISTRY_URL ?? "", username: env.SCHEMA_REGISTRY_USER, password: env.SCHEMA_REGISTRY_PASSWORD });
  const records: RawRecord[] = frames.map((value, i) => ({ value, key: null, timestamp: 0, stream: "t/0", position: String(i) }));
  await decoder.prepare(records);
  const mapper = compileMapper(columns, [], KAFKA_VIRTUAL_COLUMNS);
  const bytes = frames.reduce((acc, f) => acc + f.length, 0);
  let sink = 0;
  const product = await cpuSeconds(() => {
    for (const r of records) sink += JSON.stringify(mapper.map(r, decoder.decode(r.value))).length;
  });
  const bare = avro.Type.forSchema(schema as avro.Schema);
  const avsc = await cpuSeconds(() => {
    for (const f of frames) sink += (bare.fromBuffer(f.subarray(5)) as object) === null ? 0 : 1;
  });
  const jsonTexts = frames.map((_, i) => Buffer.from(message(i, SIZE, Date.now())));
  const jsonBytes = jsonTexts.reduce((acc, f) => acc + f.length, 0);
  const json = await cpuSeconds(() => {
    for (const t of jsonTexts) sink += (JSON.parse(t.toString("utf8")) as object) === null ? 0 : 1;
  });
  // The batch as the consumer fills it (decode, map, the insert body): Avro beside JSON passed through and JSON mapped.
  const jsonRecords: RawRecord[] = jsonTexts.map((value, i) => ({ value, key: null, timestamp: 0, stream: "t/0", position: String(i) }));
  const fill = (input: readonly RawRecord[], decode: (b: Buffer | null) => DecodedRecord, passthrough: boolean) => (): void => {
    const batch = new TableBatch("bench", "bench", mapper, decode, passthrough);
    for (const r of input) batch.add(r, looksLikeJsonObject);
    sink += batch.insertBody().length;
  };
  const avroBatch = await cpuSeconds(fill(records, (b) => decoder.decode(b), false));
  const jsonPassBatch = await cpuSeconds(fill(jsonRecords, decodeJsonObject, true));
  const jsonMappedBatch = await cpuSeconds(fill(jsonRecords, decodeJsonObject, false));
  log(`decode (${sink > 0 ? "checked" : "?"}): product ${(bytes / 1e6 / product).toFixed(1)} MB/CPU-s, avsc alone ${(bytes / 1e6 / avsc).toFixed(1)}, JSON.parse ${(jsonBytes / 1e6 / json).toFixed(1)}`);
  log(`batch filling: Avro ${(bytes / 1e6 / avroBatch).toFixed(1)} MB/CPU-s, JSON passed through ${(jsonBytes / 1e6 / jsonPassBatch).toFixed(1)}, JSON mapped ${(jsonBytes / 1e6 / jsonMappedBatch).toFixed(1)}`);
  return {
    productMbPerCpuS: bytes / 1e6 / product,
    productCpuSPerMillion: (product / frames.length) * 1e6,
    avscMbPerCpuS: bytes / 1e6 / avsc,
    jsonMbPerCpuS: jsonBytes / 1e6 / json,
    batchAvroMbPerCpuS: bytes / 1e6 / avroBatch,
    batchJsonPassthroughMbPerCpuS: jsonBytes / 1e6 / jsonPassBatch,
    batchJsonMappedMbPerCpuS: jsonBytes / 1e6 / jsonMappedBatch,
  };
}

function kafkaClient(env: StackEnv): Kafka {
  return new Kafka({ clientId: "bench-avro", brokers: [env.KAFKA_BROKERS ?? ""], logLevel: logLevel.NOTHING });
}

async function produceFrames(env: StackEnv, topic: string, frames: readonly Buffer[]): Promise<void> {
  const admin = kafkaClient(env).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafkaClient(env).producer();
  await producer.connect();
  for (let i = 0; i < frames.length; i += 500) {
    await producer.send({ topic, acks: 1, messages: frames.slice(i, i + 500).map((value, j) => ({ value, partition: (i + j) % PARTITIONS })) });
  }
  await producer.disconnect();
}

/**
 * kafkajs fetching the topic and doing nothing with the records (the JSON bench's ceiling):
 * MB/s, and MB per CPU-second of this process, which is also about all a consumer would
 * spend if ClickHouse decoded the frames itself (it would only pass the bytes on).
 */
async function rawConsume(env: StackEnv, topic: string, n: number, bytes: number): Promise<{ mbPerS: number; mbPerCpuS: number }> {
  const cpu0 = process.cpuUsage();
  const rowsPerS = await rawConsumeRate(env, topic, n);
  const cpu = process.cpuUsage(cpu0);
  return { mbPerS: (rowsPerS * bytes) / n / 1e6, mbPerCpuS: bytes / 1e6 / ((cpu.user + cpu.system) / 1e6) };
}

function compileCli(): Promise<string> {
  const out = join(repoRoot, ".stack", "bench-avro-dist");
  log("compiling the CLI (tsc -p tsconfig.build.json)");
  return new Promise((resolve) => {
    const tsc = spawn(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", out], { cwd: repoRoot, stdio: "ignore" });
    // Type errors elsewhere in the tree do not stop tsc from emitting.
    tsc.once("exit", () => resolve(join(out, "src/cli/main.js")));
  });
}

function procCpuSeconds(child: ChildProcess): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function queryCount(env: StackEnv, sql: string): Promise<number> {
  const response = await fetch(`${env.CLICKHOUSE_URL}/?query=${encodeURIComponent(sql)}`, { method: "POST", headers: { authorization: basic(env.CLICKHOUSE_USER, env.CLICKHOUSE_PASSWORD) } });
  const text = await response.text();
  if (!response.ok) throw new Error(`${sql}: ${response.status} ${text}`);
  return Number(text.trim());
}

async function chExec(env: StackEnv, sql: string, body?: Buffer): Promise<void> {
  const response = await fetch(`${env.CLICKHOUSE_URL}/?query=${encodeURIComponent(sql)}`, { method: "POST", headers: { authorization: basic(env.CLICKHOUSE_USER, env.CLICKHOUSE_PASSWORD) }, body: body ?? "" });
  if (!response.ok) throw new Error(`${sql.slice(0, 80)}: ${response.status} ${await response.text()}`);
}

/** `clickpipes run` from the topic into a managed table: MB/s while rows arrive, and MB per CPU-second of the consumer. */
async function endToEnd(
  env: StackEnv,
  cli: string,
  db: string,
  topic: string,
  frames: { n: number; bytes: number; avroDecoding?: "consumer" | "clickhouse" },
): Promise<{ mbPerS: number; mbPerCpuS: number; cpuSPerMillion: number }> {
  const { n, bytes, avroDecoding = "consumer" } = frames;
  const table = avroDecoding === "consumer" ? "e2e" : "e2e_ch";
  const dir = mkdtempSync(join(tmpdir(), "bench-avro-"));
  const file = join(dir, "pipe.yaml");
  const pipe = {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: `avro-${table.replace("_", "-")}`, namespace: "bench" },
    spec: {
      source: { kafka: { brokers: env.KAFKA_BROKERS, topics: topic, format: "AvroConfluent", formatOptions: { avroDecoding }, schemaRegistry: { url: env.SCHEMA_REGISTRY_URL, credentialsSecretRef: { name: "registry" } } } },
      destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch" } }, database: db, table, managedTable: true, columns, tableDefinition: { engine: { type: "MergeTree" }, sortingKey: ["id"] } },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  };
  const secrets = [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ch" }, stringData: { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "registry" }, stringData: { username: env.SCHEMA_REGISTRY_USER, password: env.SCHEMA_REGISTRY_PASSWORD } },
  ];
  writeFileSync(file, [pipe, ...secrets].map((d) => stringify(d)).join("---\n"));
  // BENCH_CPU_PROF=<dir>: the consumer writes a V8 CPU profile there when it stops (open it in Chrome's DevTools).
  const profile = process.env.BENCH_CPU_PROF === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`];
  const child = spawn(process.execPath, [...profile, cli, "run", "-f", file], { cwd: repoRoot, env: { ...process.env, CLICKPIPES_HTTP_PORT: "0", LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "inherit"] });
  try {
    const deadline = Date.now() + 600_000;
    // Steady state: from the first rows in the table (start-up, connecting and the first batch aside) to the last.
    let first: { at: number; rows: number; cpu: number } | undefined;
    let rows = 0;
    while (rows < n) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`consumer stalled at ${rows}/${n} rows`);
      await sleep(100);
      rows = await queryCount(env, `SELECT count() FROM ${db}.${table}`).catch(() => 0);
      if (first === undefined && rows > 0) first = { at: Date.now(), rows, cpu: procCpuSeconds(child) };
    }
    const start = first ?? { at: Date.now(), rows: 0, cpu: 0 };
    const cpu = procCpuSeconds(child) - start.cpu;
    const measured = n - start.rows;
    const mb = (bytes / n) * measured / 1e6;
    if (measured < n / 2) log(`warning: only ${measured} of ${n} rows arrived after the first batch; raise BENCH_MESSAGES`);
    return { mbPerS: mb / ((Date.now() - start.at) / 1000), mbPerCpuS: mb / cpu, cpuSPerMillion: (cpu / measured) * 1e6 };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

/**
 * ClickHouse decoding the frames itself: FORMAT AvroConfluent with the registry URL, 20 MiB
 * bodies. MB/s of the server, and MB per CPU-second this process spends building the bodies
 * from the frames and sending them (what a consumer would do beside fetching).
 */
async function clickhouseDecodes(env: StackEnv, db: string, frames: readonly Buffer[], bytes: number): Promise<{ mbPerS: number; forwardMbPerCpuS: number }> {
  await chExec(env, `CREATE TABLE ${db}.server_decoded (${columns.map((c) => `${c.name} ${c.type}`).join(", ")}) ENGINE = MergeTree ORDER BY id`);
  const registry = new URL(env.SCHEMA_REGISTRY_URL ?? "");
  registry.username = env.SCHEMA_REGISTRY_USER ?? "";
  registry.password = env.SCHEMA_REGISTRY_PASSWORD ?? "";
  const perBody = Math.floor((20 << 20) / SIZE);
  const sql = `INSERT INTO ${db}.server_decoded SETTINGS format_avro_schema_registry_url = '${registry.toString()}' FORMAT AvroConfluent`;
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < frames.length; i += perBody) await chExec(env, sql, Buffer.concat(frames.slice(i, i + perBody)));
  const cpu = process.cpuUsage(cpu0);
  const rate = bytes / 1e6 / ((Date.now() - t0) / 1000);
  const rows = await queryCount(env, `SELECT count() FROM ${db}.server_decoded`);
  if (rows !== frames.length) throw new Error(`ClickHouse decoded ${rows} of ${frames.length} frames`);
  return { mbPerS: rate, forwardMbPerCpuS: bytes / 1e6 / ((cpu.user + cpu.system) / 1e6) };
}

export async function main(): Promise<Record<string, unknown>> {
  const env = await stackEnv();
  const n = Number(process.env.BENCH_MESSAGES ?? 100_000);
  const schemaId = await register(env, `bench-avro-${randomBytes(3).toString("hex")}-value`);
  log(`building ${n} AvroConfluent records of ~${SIZE} B (schema id ${schemaId}); load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const now = Date.now();
  const frames = Array.from({ length: n }, (_, i) => frame(i, schemaId, now + i));
  const bytes = frames.reduce((acc, f) => acc + f.length, 0);
  const decode = await decodeRates(env, frames);
  const db = `bench_avro_${randomBytes(4).toString("hex")}`;
  await chExec(env, `CREATE DATABASE ${db}`);
  const topic = `bench-avro-${randomBytes(3).toString("hex")}`;
  try {
    log(`producing ${n} records to ${topic}`);
    await produceFrames(env, topic, frames);
    const consume = await rawConsume(env, topic, n, bytes);
    log(`ceiling: raw consume ${consume.mbPerS.toFixed(1)} MB/s, ${consume.mbPerCpuS.toFixed(1)} MB per CPU-second`);
    const cli = await compileCli();
    const e2e = await endToEnd(env, cli, db, topic, { n, bytes });
    log(`end to end: ${e2e.mbPerS.toFixed(1)} MB/s, ${e2e.mbPerCpuS.toFixed(1)} MB per consumer CPU-second, ${e2e.cpuSPerMillion.toFixed(1)} CPU-s per million records`);
    const e2eCh = await endToEnd(env, cli, db, topic, { n, bytes, avroDecoding: "clickhouse" });
    log(`end to end, avroDecoding: clickhouse: ${e2eCh.mbPerS.toFixed(1)} MB/s, ${e2eCh.mbPerCpuS.toFixed(1)} MB per consumer CPU-second, ${e2eCh.cpuSPerMillion.toFixed(1)} CPU-s per million records`);
    const server = await clickhouseDecodes(env, db, frames, bytes);
    // A consumer that lets ClickHouse decode fetches (the ceiling's CPU) and forwards the frames (this CPU); nothing else.
    const serverConsumerMbPerCpuS = 1 / (1 / consume.mbPerCpuS + 1 / server.forwardMbPerCpuS);
    log(`ClickHouse decoding the frames (FORMAT AvroConfluent): ${server.mbPerS.toFixed(1)} MB/s; forwarding them costs ${server.forwardMbPerCpuS.toFixed(1)} MB/CPU-s, so such a consumer would run at ~${serverConsumerMbPerCpuS.toFixed(1)} MB per CPU-second`);
    const target = CLICKPIPES_MB_PER_CORE * 1.5;
    return {
      record_bytes: Math.round(bytes / n),
      decode_mb_per_cpu_s: Number(decode.productMbPerCpuS.toFixed(1)),
      decode_cpu_s_per_million: Number(decode.productCpuSPerMillion.toFixed(2)),
      decode_ceiling_avsc_mb_per_cpu_s: Number(decode.avscMbPerCpuS.toFixed(1)),
      json_parse_mb_per_cpu_s: Number(decode.jsonMbPerCpuS.toFixed(1)),
      mb_per_s: Number(e2e.mbPerS.toFixed(1)),
      mb_per_cpu_s: Number(e2e.mbPerCpuS.toFixed(1)),
      cpu_s_per_million: Number(e2e.cpuSPerMillion.toFixed(1)),
      clickhouse_decoding_mb_per_s: Number(e2eCh.mbPerS.toFixed(1)),
      clickhouse_decoding_mb_per_cpu_s: Number(e2eCh.mbPerCpuS.toFixed(1)),
      clickhouse_decoding_cpu_s_per_million: Number(e2eCh.cpuSPerMillion.toFixed(1)),
      batch_avro_mb_per_cpu_s: Number(decode.batchAvroMbPerCpuS.toFixed(1)),
      batch_json_passthrough_mb_per_cpu_s: Number(decode.batchJsonPassthroughMbPerCpuS.toFixed(1)),
      batch_json_mapped_mb_per_cpu_s: Number(decode.batchJsonMappedMbPerCpuS.toFixed(1)),
      consume_ceiling_mb_per_s: Number(consume.mbPerS.toFixed(1)),
      consume_ceiling_mb_per_cpu_s: Number(consume.mbPerCpuS.toFixed(1)),
      clickhouse_decodes_mb_per_s: Number(server.mbPerS.toFixed(1)),
      clickhouse_decodes_forward_mb_per_cpu_s: Number(server.forwardMbPerCpuS.toFixed(1)),
      clickhouse_decodes_consumer_mb_per_cpu_s: Number(serverConsumerMbPerCpuS.toFixed(1)),
      clickpipes_mb_per_s_per_core: CLICKPIPES_MB_PER_CORE,
      target_mb_per_cpu_s: target,
      // The default where it applies (avroDecoding: clickhouse); the consumer's decode beside it.
      meets_target: e2eCh.mbPerCpuS >= target,
      consumer_decode_meets_target: e2e.mbPerCpuS >= target,
      load_average: Number(loadavg()[0]?.toFixed(2)),
    };
  } finally {
    await chExec(env, `DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
    await deleteTopics(env, [topic]).catch((err: unknown) => log(`could not delete ${topic}: ${String(err)}`));
  }
}
