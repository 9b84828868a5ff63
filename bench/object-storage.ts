/**
 * Object storage → ClickHouse on the stack's S3 server (versitygw): the pipe's throughput
 * for each way of moving bytes (ClickHouse reads the files itself; the consumer streams them
 * from the S3 SDK into INSERT ... FORMAT) against ClickHouse's own
 * `INSERT INTO t SELECT * FROM s3(...)` of the same files, measured in the same run, for
 * about 1 GB of gzip NDJSON and 1 GB of Parquet. The peer runs before and after the pipes
 * and the pipes are compared with the mean of the two, so a load that comes or goes during
 * the run weighs on both sides. Each figure carries the machine's load average at its start
 * and end: the 2 cores are shared, and the engine, the pipe and its peer compete for them.
 *
 * The files are made by the engine itself, one per statement, and kept in the S3 server's
 * data directory (bucket `bench-object-storage`), so a second run starts at once. The pipe's
 * state rows must add up to the rows in its table (the rows come from each insert's
 * X-ClickHouse-Summary; no file is read twice), else the figure is an error.
 *
 * Env: BENCH_ROWS (rows per format; default 15,200,000 NDJSON rows ≈ 1.0 GB gzipped and
 * 16,400,000 Parquet rows ≈ 1.0 GB), BENCH_FILES (default 16 files per format),
 * BENCH_FORMATS (ndjson_gz,parquet), BENCH_TRANSFERS (clickhouse,consumer),
 * BENCH_CLICKHOUSE_URL/_USER/_PASSWORD (another ClickHouse than the stack's).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { stringify } from "yaml";
import { loadRunFile } from "../src/ingest/config.js";
import { runPipe } from "../src/ingest/runner.js";
import { objectStoragePluginWith } from "../src/sources/object-storage/plugin.js";
import type { Transfer } from "../src/sources/object-storage/transfer.js";
import { registerPlugin } from "../src/sources/registry.js";
import { loadStackEnv, type StackEnv } from "../test/stack/env.js";
import { up } from "../test/stack/stack.js";
import { s3Client } from "../test/integration/object-storage-helpers.js";

const log = (msg: string): void => void process.stderr.write(`[bench object-storage ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const BUCKET = "bench-object-storage";
const STRUCTURE = "id UInt64, user String, ts DateTime64(3), value Float64, payload String";
const GOAL = 0.9;
const TICK_MS = 15_000;

interface Dataset {
  readonly name: string;
  readonly folder: string;
  readonly format: "JSONEachRow" | "Parquet";
  readonly extension: string;
  readonly compression: string;
  /** Rows for about 1 GB of files (66 B a row gzipped, 61 B in Parquet: the payload is 48 random bytes in hex). */
  readonly rows: number;
}

const DATASETS: readonly Dataset[] = [
  { name: "ndjson_gz", folder: "ndjson", format: "JSONEachRow", extension: "json.gz", compression: "gzip", rows: 15_200_000 },
  { name: "parquet", folder: "parquet", format: "Parquet", extension: "parquet", compression: "none", rows: 16_400_000 },
];

interface Bench {
  readonly ch: ClickHouseClient;
  readonly env: StackEnv;
  readonly db: string;
  readonly s3: S3Client;
}

/** One measured ingest: seconds, and the load average (1 min) at its start and end. */
interface Timing {
  readonly seconds: number;
  readonly load: readonly [number, number];
}

/** The stack's S3 server and ClickHouse, or another ClickHouse given by BENCH_CLICKHOUSE_URL/_USER/_PASSWORD. */
async function stackEnv(): Promise<StackEnv> {
  let env: StackEnv | undefined;
  try {
    env = loadStackEnv();
  } catch (err) {
    log(`no stack env yet (${err instanceof Error ? err.message : String(err)})`);
  }
  if (env?.S3_ENDPOINT === undefined || env.CLICKHOUSE_URL === undefined) env = await up(["clickhouse", "s3"]);
  const url = process.env.BENCH_CLICKHOUSE_URL;
  if (url === undefined) return env;
  log(`ClickHouse at ${url} instead of the stack's`);
  return { ...env, CLICKHOUSE_URL: url, CLICKHOUSE_USER: process.env.BENCH_CLICKHOUSE_USER ?? "default", CLICKHOUSE_PASSWORD: process.env.BENCH_CLICKHOUSE_PASSWORD ?? "" };
}

async function listSizes(client: S3Client, prefix: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...(token === undefined ? {} : { ContinuationToken: token }) }));
    for (const o of out.Contents ?? []) if (o.Key !== undefined) sizes.set(o.Key, o.Size ?? 0);
    token = out.NextContinuationToken;
  } while (token !== undefined);
  return sizes;
}

/** Where a dataset's files are kept (v2: one range of ids per file, a payload gzip cannot shrink). */
const prefixOf = (d: Dataset, rows: number, files: number): string => `${d.folder}-v2-${rows}-${files}/`;

/** The dataset's files, each written by the engine through s3() from its own range of ids; files already there are kept. */
async function ensureData(b: Bench, d: Dataset, rows: number, files: number): Promise<{ files: number; bytes: number }> {
  const prefix = prefixOf(d, rows, files);
  const have = await listSizes(b.s3, prefix);
  const per = Math.ceil(rows / files);
  for (let i = 0; i < files; i++) {
    const key = `${prefix}part-${String(i).padStart(3, "0")}.${d.extension}`;
    if (have.has(key)) continue;
    const started = performance.now();
    const first = i * per;
    const count = Math.max(0, Math.min(per, rows - first));
    await b.ch.command({
      query: `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, '${d.format}', '${STRUCTURE}', '${d.compression}')
              SELECT number AS id, concat('user-', toString(number % 100000)) AS user, toDateTime64('2024-01-01 00:00:00', 3) + number / 1000 AS ts,
                     number * 0.5 AS value, hex(sipHash128(number, 1)) || hex(sipHash128(number, 2)) || hex(sipHash128(number, 3)) AS payload
              FROM numbers(${first}, ${count}) SETTINGS s3_truncate_on_insert = 1`,
      query_params: { url: `${b.env.S3_ENDPOINT}/${BUCKET}/${key}`, k: b.env.S3_ACCESS_KEY_ID, s: b.env.S3_SECRET_ACCESS_KEY },
    });
    log(`generated ${d.name} file ${i + 1}/${files} (${count} rows) in ${((performance.now() - started) / 1000).toFixed(1)} s (cached in the bucket afterwards)`);
  }
  const sizes = [...(await listSizes(b.s3, prefix)).values()];
  return { files: sizes.length, bytes: sizes.reduce((n, s) => n + s, 0) };
}

async function freshTable(b: Bench, table: string): Promise<void> {
  await b.ch.command({ query: `CREATE TABLE ${b.db}.${table} (${STRUCTURE}) ENGINE = MergeTree ORDER BY id` });
}

async function scalar(ch: ClickHouseClient, query: string): Promise<number> {
  const r = await ch.query({ query, format: "JSONEachRow" });
  return Number(Object.values((await r.json<Record<string, string>>())[0] ?? {})[0] ?? 0);
}

/** Runs `work`, logging the table's rows every 15 s: a gigabyte takes a minute or more here. */
async function timed(b: Bench, label: string, table: string, total: number, work: () => Promise<void>): Promise<Timing> {
  const loadStart = loadavg()[0] ?? 0;
  const started = performance.now();
  const ticker = setInterval(() => {
    scalar(b.ch, `SELECT count() FROM ${b.db}.${table}`).then(
      (n) => log(`${label}: ${n} of ${total} rows after ${((performance.now() - started) / 1000).toFixed(0)} s (load ${(loadavg()[0] ?? 0).toFixed(1)})`),
      (err: unknown) => log(`${label}: progress unknown (${err instanceof Error ? err.message : String(err)})`),
    );
  }, TICK_MS);
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  return { seconds: (performance.now() - started) / 1000, load: [round(loadStart), round(loadavg()[0] ?? 0)] };
}

/** ClickHouse's own INSERT ... SELECT * FROM s3(glob): the peer. */
async function peer(b: Bench, d: Dataset, prefix: string, rows: number, label: string): Promise<Timing> {
  const table = `peer_${d.name}_${randomBytes(3).toString("hex")}`;
  await freshTable(b, table);
  const t = await timed(b, label, table, rows, async () => {
    await b.ch.command({
      query: `INSERT INTO ${b.db}.${table} SELECT * FROM s3({url:String}, {k:String}, {s:String}, '${d.format}', '${STRUCTURE}')`,
      query_params: { url: `${b.env.S3_ENDPOINT}/${BUCKET}/${prefix}*`, k: b.env.S3_ACCESS_KEY_ID, s: b.env.S3_SECRET_ACCESS_KEY },
    });
  });
  const wrote = await scalar(b.ch, `SELECT count() FROM ${b.db}.${table}`);
  await b.ch.command({ query: `DROP TABLE ${b.db}.${table}` });
  if (wrote !== rows) throw new Error(`${label} wrote ${wrote} of ${rows} rows`);
  log(`${label}: ${rows} rows in ${t.seconds.toFixed(2)} s (load ${t.load.join(" → ")})`);
  return t;
}

function pipeDocs(b: Bench, d: Dataset, prefix: string, table: string): string {
  const { env } = b;
  const docs = [
    {
      apiVersion: "clickpipes.io/v1alpha1",
      kind: "ClickPipe",
      metadata: { name: table.replaceAll("_", "-"), namespace: "bench" },
      spec: {
        source: { objectStorage: { type: "s3", url: `${env.S3_ENDPOINT}/${BUCKET}/${prefix}*`, format: d.format, authentication: "IAM_USER", credentialsSecretRef: { name: "s3" } } },
        destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch" } }, database: b.db, table, managedTable: false },
      },
    },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "s3" }, stringData: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ch" }, stringData: { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD } },
  ];
  return docs.map((doc) => stringify(doc)).join("---\n");
}

/** The pipe (one-shot, in this process) with one way of moving bytes, from start to Completed; its table and state rows must both hold every row. */
async function pipe(b: Bench, d: Dataset, prefix: string, rows: number, transfer: Transfer): Promise<Timing> {
  const table = `pipe_${d.name}_${transfer}_${randomBytes(3).toString("hex")}`;
  const label = `pipe ${d.name} (${transfer} moves the bytes)`;
  await freshTable(b, table);
  const dir = mkdtempSync(join(tmpdir(), "bench-os-"));
  const file = join(dir, "pipe.yaml");
  writeFileSync(file, pipeDocs(b, d, prefix, table));
  const restore = registerPlugin(objectStoragePluginWith({ transfer }));
  let t: Timing;
  try {
    t = await timed(b, label, table, rows, async () => {
      const code = await runPipe(loadRunFile(file), { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 });
      if (code !== 0) throw new Error(`the ${transfer} pipe exited ${code}`);
    });
  } finally {
    restore();
    rmSync(dir, { recursive: true, force: true });
  }
  const wrote = await scalar(b.ch, `SELECT count() FROM ${b.db}.${table}`);
  const stated = await scalar(b.ch, `SELECT sum(rows) FROM ${b.db}.clickpipes_state WHERE pipe = 'bench/${table.replaceAll("_", "-")}'`);
  await b.ch.command({ query: `DROP TABLE ${b.db}.${table}` });
  if (wrote !== rows || stated !== rows) throw new Error(`${label}: table has ${wrote} rows, state rows say ${stated}, of ${rows}`);
  log(`${label}: ${rows} rows in ${t.seconds.toFixed(2)} s (load ${t.load.join(" → ")})`);
  return t;
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

function figure(t: Timing, mb: number, rows: number): Record<string, unknown> {
  return { s: round(t.seconds, 2), mbPerS: round(mb / t.seconds), rowsPerS: Math.round(rows / t.seconds), load: t.load };
}

async function measure(b: Bench, d: Dataset, rows: number, files: number, transfers: readonly Transfer[]): Promise<Record<string, unknown>> {
  const data = await ensureData(b, d, rows, files);
  const prefix = prefixOf(d, rows, files);
  const mb = data.bytes / 1e6;
  log(`${d.name}: ${data.files} files, ${mb.toFixed(0)} MB, ${rows} rows`);
  const before = await peer(b, d, prefix, rows, `peer ${d.name} (before the pipes)`);
  const pipes = new Map<Transfer, Timing | Error>();
  for (const transfer of transfers) {
    // A failed run has no throughput to compare; the others still do.
    pipes.set(transfer, await pipe(b, d, prefix, rows, transfer).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))));
  }
  const after = await peer(b, d, prefix, rows, `peer ${d.name} (after the pipes)`);
  const peerS = (before.seconds + after.seconds) / 2;
  const out: Record<string, unknown> = {
    files: data.files,
    mb: round(mb),
    rows,
    peer: { ...figure({ seconds: peerS, load: [before.load[0], after.load[1]] }, mb, rows), before: round(before.seconds, 2), after: round(after.seconds, 2) },
  };
  for (const [transfer, t] of pipes) {
    if (t instanceof Error) {
      log(`${d.name} ${transfer}: ${t.message}`);
      out[transfer] = { error: t.message };
      continue;
    }
    const ratio = round(peerS / t.seconds, 2);
    out[transfer] = { ...figure(t, mb, rows), vsPeer: ratio, meetsGoal: ratio >= GOAL };
    log(`${d.name}: ${transfer} moves the bytes at ${round(mb / t.seconds)} MB/s, ${Math.round(rows / t.seconds)} rows/s = ${ratio} × ClickHouse's own (${round(mb / peerS)} MB/s; goal ≥ ${GOAL})`);
  }
  return out;
}

function listEnv(name: string, all: readonly string[]): string[] {
  const wanted = process.env[name]?.split(",").filter(Boolean) ?? [...all];
  for (const w of wanted) if (!all.includes(w)) throw new Error(`${name}: ${w} is not one of ${all.join(", ")}`);
  return wanted;
}

export async function main(): Promise<Record<string, unknown>> {
  const rowsOverride = process.env.BENCH_ROWS === undefined ? undefined : Number(process.env.BENCH_ROWS);
  const files = Number(process.env.BENCH_FILES ?? 16);
  const datasets = listEnv("BENCH_FORMATS", DATASETS.map((d) => d.name));
  const transfers = listEnv("BENCH_TRANSFERS", ["clickhouse", "consumer"]) as Transfer[];
  process.env.LOG_LEVEL ??= "warn";
  const env = await stackEnv();
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, request_timeout: 3_600_000, log: { level: ClickHouseLogLevel.OFF } });
  const client = s3Client(env);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((err: unknown) => log(`bucket: ${err instanceof Error ? err.name : String(err)}`));
  const db = `bench_os_${randomBytes(3).toString("hex")}`;
  await ch.command({ query: `CREATE DATABASE ${db}` });
  const bench: Bench = { ch, env, db, s3: client };
  const figures: Record<string, unknown> = { files, goal: GOAL, loadAtStart: loadavg().map((n) => round(n)) };
  try {
    for (const d of DATASETS.filter((x) => datasets.includes(x.name))) figures[d.name] = await measure(bench, d, rowsOverride ?? d.rows, files, transfers);
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
    client.destroy();
  }
  figures.loadAtEnd = loadavg().map((n) => round(n));
  return figures;
}
