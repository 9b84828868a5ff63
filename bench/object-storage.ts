/**
 * Object storage → ClickHouse on the stack's S3 server (versitygw): the pipe's throughput
 * for each way of moving bytes (ClickHouse reads the files itself; the consumer streams them
 * from the S3 SDK into INSERT ... FORMAT) against ClickHouse's own
 * `INSERT INTO t SELECT * FROM s3(...)` of the same files, measured in the same run, for
 * gzip NDJSON and Parquet. The files are made by the engine itself and cached in the S3
 * server's data directory (bucket `bench-object-storage`), so a second run starts at once.
 *
 * Run it on a quiet machine: the pipe and its peer share the engine's cores, and another
 * load on them moves both figures by a factor of two between runs.
 *
 * Env: BENCH_ROWS (default 5,000,000 rows of ~200 B: about 1 GB of NDJSON before gzip),
 * BENCH_FILES (default 8 files per format).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { stringify } from "yaml";
import { loadRunFile } from "../src/ingest/config.js";
import { runPipe } from "../src/ingest/runner.js";
import { objectStoragePluginWith } from "../src/sources/object-storage/plugin.js";
import type { Transfer } from "../src/sources/object-storage/transfer.js";
import { registerPlugin } from "../src/sources/registry.js";
import { loadStackEnv, type StackEnv } from "../test/stack/env.js";
import { up } from "../test/stack/stack.js";

const log = (msg: string): void => void process.stderr.write(`[bench object-storage ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const BUCKET = "bench-object-storage";
const STRUCTURE = "id UInt64, user String, ts DateTime64(3), value Float64, payload String";

interface Dataset {
  readonly name: string;
  readonly folder: string;
  readonly format: "JSONEachRow" | "Parquet";
  readonly extension: string;
  readonly compression: string;
}

const DATASETS: readonly Dataset[] = [
  { name: "ndjson_gz", folder: "ndjson", format: "JSONEachRow", extension: "json.gz", compression: "gzip" },
  { name: "parquet", folder: "parquet", format: "Parquet", extension: "parquet", compression: "none" },
];

async function stackEnv(): Promise<StackEnv> {
  try {
    const env = loadStackEnv();
    if (env.S3_ENDPOINT !== undefined && env.CLICKHOUSE_URL !== undefined) return env;
  } catch (err) {
    log(`no stack env yet (${err instanceof Error ? err.message : String(err)})`);
  }
  return up(["clickhouse", "s3"]);
}

function s3(env: StackEnv): S3Client {
  return new S3Client({ endpoint: env.S3_ENDPOINT, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: env.S3_ACCESS_KEY_ID ?? "", secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" } });
}

/** Bytes of the objects under `prefix` (0 when none). */
async function sizeOf(client: S3Client, prefix: string): Promise<{ files: number; bytes: number }> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return { files: out.Contents?.length ?? 0, bytes: (out.Contents ?? []).reduce((n, o) => n + (o.Size ?? 0), 0) };
}

/** The dataset's files, written by the engine through s3() partitioned into `files` objects; kept between runs. */
interface Bench {
  readonly ch: ClickHouseClient;
  readonly env: StackEnv;
  readonly db: string;
}

async function ensureData(b: Bench, client: S3Client, d: Dataset, size: { rows: number; files: number }): Promise<{ files: number; bytes: number }> {
  const { ch, env } = b;
  const { rows, files } = size;
  const prefix = `${d.folder}-${rows}-${files}/`;
  const have = await sizeOf(client, prefix);
  if (have.files === files) return have;
  log(`generating ${rows} rows of ${d.name} into ${files} files (cached afterwards)`);
  await ch.command({
    query: `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, '${d.format}', '${STRUCTURE}', '${d.compression}') PARTITION BY id % ${files}
            SELECT number AS id, concat('user-', toString(number % 100000)) AS user, toDateTime64('2024-01-01 00:00:00', 3) + number / 1000 AS ts,
                   number * 0.5 AS value, hex(sipHash128(number)) || hex(sipHash128(number + 1)) || hex(sipHash128(number + 2)) AS payload
            FROM numbers(${rows}) SETTINGS s3_truncate_on_insert = 1`,
    query_params: { url: `${env.S3_ENDPOINT}/${BUCKET}/${prefix}part-{_partition_id}.${d.extension}`, k: env.S3_ACCESS_KEY_ID, s: env.S3_SECRET_ACCESS_KEY },
  });
  return sizeOf(client, prefix);
}

async function freshTable(ch: ClickHouseClient, db: string, table: string): Promise<void> {
  await ch.command({ query: `CREATE TABLE ${db}.${table} (${STRUCTURE}) ENGINE = MergeTree ORDER BY id` });
}

async function rowsIn(ch: ClickHouseClient, table: string): Promise<number> {
  const r = await ch.query({ query: `SELECT count() AS n FROM ${table}`, format: "JSONEachRow" });
  return Number((await r.json<{ n: string }>())[0]?.n ?? 0);
}

/** ClickHouse's own INSERT ... SELECT * FROM s3(glob): the peer. */
async function peer(b: Bench, d: Dataset, prefix: string): Promise<number> {
  const { ch, env, db } = b;
  const table = `peer_${d.name}_${randomBytes(3).toString("hex")}`;
  await freshTable(ch, db, table);
  const started = performance.now();
  await ch.command({
    query: `INSERT INTO ${db}.${table} SELECT * FROM s3({url:String}, {k:String}, {s:String}, '${d.format}', '${STRUCTURE}')`,
    query_params: { url: `${env.S3_ENDPOINT}/${BUCKET}/${prefix}*`, k: env.S3_ACCESS_KEY_ID, s: env.S3_SECRET_ACCESS_KEY },
  });
  const seconds = (performance.now() - started) / 1000;
  log(`peer ${d.name}: ${await rowsIn(ch, `${db}.${table}`)} rows in ${seconds.toFixed(2)} s`);
  return seconds;
}

/** The pipe (one-shot, in this process) with one way of moving bytes; seconds from start to Completed and the rows it wrote. */
async function pipe(b: Bench, d: Dataset, prefix: string, transfer: Transfer): Promise<{ seconds: number; rows: number }> {
  const { ch, env, db } = b;
  const table = `pipe_${d.name}_${transfer}_${randomBytes(3).toString("hex")}`;
  await freshTable(ch, db, table);
  const dir = mkdtempSync(join(tmpdir(), "bench-os-"));
  const file = join(dir, "pipe.yaml");
  const docs = [
    {
      apiVersion: "clickpipes.io/v1alpha1",
      kind: "ClickPipe",
      metadata: { name: table.replaceAll("_", "-"), namespace: "bench" },
      spec: {
        source: { objectStorage: { type: "s3", url: `${env.S3_ENDPOINT}/${BUCKET}/${prefix}*`, format: d.format, authentication: "IAM_USER", credentialsSecretRef: { name: "s3" } } },
        destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch" } }, database: db, table, managedTable: false },
      },
    },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "s3" }, stringData: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ch" }, stringData: { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD } },
  ];
  writeFileSync(file, docs.map((doc) => stringify(doc)).join("---\n"));
  const restore = registerPlugin(objectStoragePluginWith({ transfer }));
  const started = performance.now();
  try {
    const code = await runPipe(loadRunFile(file), { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 });
    if (code !== 0) throw new Error(`the ${transfer} pipe exited ${code}`);
  } finally {
    restore();
  }
  const seconds = (performance.now() - started) / 1000;
  const rows = await rowsIn(ch, `${db}.${table}`);
  log(`pipe ${d.name} (${transfer}): ${rows} rows in ${seconds.toFixed(2)} s`);
  return { seconds, rows };
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

export async function main(): Promise<Record<string, unknown>> {
  const rows = Number(process.env.BENCH_ROWS ?? 5_000_000);
  const files = Number(process.env.BENCH_FILES ?? 8);
  process.env.LOG_LEVEL ??= "warn";
  const env = await stackEnv();
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, request_timeout: 1_800_000, log: { level: ClickHouseLogLevel.OFF } });
  const client = s3(env);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((err: unknown) => log(`bucket: ${err instanceof Error ? err.name : String(err)}`));
  const db = `bench_os_${randomBytes(3).toString("hex")}`;
  await ch.command({ query: `CREATE DATABASE ${db}` });
  const bench: Bench = { ch, env, db };
  const figures: Record<string, unknown> = { rows, files };
  try {
    for (const d of DATASETS) {
      const data = await ensureData(bench, client, d, { rows, files });
      const prefix = `${d.folder}-${rows}-${files}/`;
      const mb = data.bytes / 1e6;
      const peerS = await peer(bench, d, prefix);
      const out: Record<string, unknown> = { files: data.files, mb: round(mb), peer: { s: round(peerS, 2), mbPerS: round(mb / peerS), rowsPerS: Math.round(rows / peerS) } };
      for (const transfer of ["clickhouse", "consumer"] as const) {
        const { seconds: s, rows: wrote } = await pipe(bench, d, prefix, transfer);
        // A run that did not write every row has no throughput to compare (see the log for why).
        out[transfer] = wrote !== rows ? { error: `wrote ${wrote} of ${rows} rows` } : { s: round(s, 2), mbPerS: round(mb / s), rowsPerS: Math.round(rows / s), vsPeer: round(peerS / s, 2) };
      }
      figures[d.name] = out;
    }
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
    client.destroy();
  }
  return figures;
}
