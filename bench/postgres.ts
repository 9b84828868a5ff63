/**
 * Postgres CDC figures, each beside a peer measured in the same run:
 * - snapshot: rows/s of one consumer (`clickpipes run`, compiled, replicationMode snapshot)
 *   loading a BENCH_ROWS-row table (default 2,000,000), against `COPY (SELECT ...) TO STDOUT`
 *   of the same table read and dropped (the source's ceiling) and a raw JSONEachRow insert of
 *   the same rows into a plain MergeTree (the destination's ceiling);
 * - replication: commit-to-queryable latency p50/p99 at a sustained BENCH_RATE changes/s
 *   (default 5,000) for BENCH_SECONDS (default 20) with a 1 s sync interval, and the
 *   consumer's CPU seconds per million changes. Latency is sampled by polling ClickHouse every
 *   100 ms, so each figure may be up to 100 ms high.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickHouseLogLevel, createClient } from "@clickhouse/client";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { stringify } from "yaml";
import { loadStackEnv, repoRoot, type StackEnv } from "../test/stack/env.js";
import { up } from "../test/stack/stack.js";

const log = (msg: string): void => void process.stderr.write(`[bench postgres ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000);
const RATE = Number(process.env.BENCH_RATE ?? 5_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const DB = `bench_pg_${Date.now().toString(36)}`;

async function stackEnv(): Promise<StackEnv> {
  try {
    const env = loadStackEnv();
    if (env.POSTGRES_URL !== undefined && env.CLICKHOUSE_URL !== undefined) return env;
  } catch (err) {
    log(`no stack env yet (${err instanceof Error ? err.message : String(err)})`);
  }
  return up(["clickhouse", "postgres"]);
}

function pgClient(env: StackEnv, database: string): pg.Client {
  return new pg.Client({ host: env.POSTGRES_HOST, port: Number(env.POSTGRES_PORT), user: env.POSTGRES_USER, password: env.POSTGRES_PASSWORD, database });
}

async function buildCli(): Promise<string> {
  const out = join(repoRoot, ".stack", "bench-dist-postgres");
  log("compiling the CLI (tsc -p tsconfig.build.json)");
  await new Promise<void>((resolve) => {
    const tsc = spawn(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", out], { cwd: repoRoot, stdio: "ignore" });
    tsc.once("exit", () => resolve());
  });
  return join(out, "src/cli/main.js");
}

function pipeFile(env: StackEnv, mode: string, table: string): string {
  const pipe = {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: `bench-${mode}`.replaceAll("_", "-"), namespace: "bench" },
    spec: {
      source: {
        postgres: {
          host: env.POSTGRES_HOST,
          port: Number(env.POSTGRES_PORT),
          database: DB,
          credentialsSecretRef: { name: "pg" },
          settings: { replicationMode: mode, syncIntervalSeconds: 1, snapshotNumRowsPerPartition: 250_000, initialLoadParallelism: 2, pullBatchSize: 100_000 },
          tableMappings: [{ sourceSchemaName: "public", sourceTable: table, targetTable: `${table}_${mode}` }],
        },
      },
      destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch" } }, database: DB, permissions: "full" },
    },
  };
  const secrets = [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ch" }, stringData: { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "pg" }, stringData: { username: env.POSTGRES_USER, password: env.POSTGRES_PASSWORD } },
  ];
  const file = join(mkdtempSync(join(tmpdir(), "bench-pg-")), "pipe.yaml");
  writeFileSync(file, [pipe, ...secrets].map((d) => stringify(d)).join("---\n"));
  return file;
}

function cpuSeconds(child: ChildProcess): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function consumer(cli: string, file: string): ChildProcess {
  return spawn(process.execPath, [cli, "run", "-f", file], { cwd: repoRoot, env: { ...process.env, CLICKPIPES_HTTP_PORT: "0", LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "inherit"] });
}

async function copyPeer(src: pg.Client): Promise<number> {
  const started = Date.now();
  let bytes = 0;
  for await (const chunk of src.query(copyTo("COPY (SELECT * FROM big) TO STDOUT")) as AsyncIterable<Buffer>) bytes += chunk.length;
  log(`COPY TO STDOUT: ${bytes} bytes`);
  return ROWS / ((Date.now() - started) / 1000);
}

async function rawInsertPeer(env: StackEnv, src: pg.Client): Promise<number> {
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, log: { level: ClickHouseLogLevel.OFF } });
  await ch.command({ query: `CREATE TABLE ${DB}.raw (id Int64, name String, amount Decimal(12, 2), at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY id` });
  const rows = (await src.query<{ id: string; name: string; amount: string; at: string }>({ text: "SELECT id::text, name, amount::text, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM big", types: { getTypeParser: () => (v: string) => v } })).rows;
  const started = Date.now();
  for (let i = 0; i < rows.length; i += 100_000) await ch.insert({ table: `${DB}.raw`, values: rows.slice(i, i + 100_000), format: "JSONEachRow" });
  const rate = rows.length / ((Date.now() - started) / 1000);
  await ch.close();
  return rate;
}

async function snapshotRun(env: StackEnv, cli: string): Promise<{ rowsPerS: number; cpuS: number }> {
  const started = Date.now();
  const child = consumer(cli, pipeFile(env, "snapshot", "big"));
  let cpu = 0;
  const sampler = setInterval(() => {
    try {
      cpu = cpuSeconds(child);
    } catch {
      // the process ended between two samples
    }
  }, 200);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`the snapshot consumer exited ${code}`);
  return { rowsPerS: ROWS / ((Date.now() - started) / 1000), cpuS: cpu };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

async function replicationRun(env: StackEnv, cli: string, src: pg.Client): Promise<{ p50: number; p99: number; cpuSPerMillion: number; changes: number }> {
  await src.query("CREATE TABLE live (id bigint PRIMARY KEY, created_ms bigint, v text)");
  const child = consumer(cli, pipeFile(env, "cdc", "live"));
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, log: { level: ClickHouseLogLevel.OFF } });
  const maxId = async (): Promise<number> => {
    const r = await ch.query({ query: `SELECT max(id) AS m FROM ${DB}.live_cdc`, format: "JSONEachRow" }).then((x) => x.json<{ m: string }>()).catch(() => [{ m: "0" }]);
    return Number(r[0]?.m ?? 0);
  };
  for (let t = 0; t < 600 && (await ch.query({ query: `EXISTS TABLE ${DB}.live_cdc`, format: "JSONEachRow" }).then((x) => x.json<{ result: number }>()).then((r) => r[0]?.result !== 1).catch(() => true)); t++) await sleep(100);
  await sleep(2_000);
  const cpuBefore = cpuSeconds(child);
  const committed: number[] = [];
  const perTick = Math.round(RATE / 20);
  let id = 0;
  const end = Date.now() + SECONDS * 1000;
  const driver = (async (): Promise<void> => {
    for (let next = Date.now(); Date.now() < end; next += 50) {
      await src.query(`INSERT INTO live SELECT g, ${Date.now()}, 'x' FROM generate_series(${id + 1}, ${id + perTick}) g`);
      for (let i = 0; i < perTick; i++) committed.push(Date.now());
      id += perTick;
      await sleep(Math.max(0, next + 50 - Date.now()));
    }
  })();
  const latencies: number[] = [];
  let seen = 0;
  while (Date.now() < end + 30_000) {
    const m = await maxId();
    const now = Date.now();
    for (; seen < m && seen < committed.length; seen++) latencies.push(now - (committed[seen] as number));
    if (Date.now() > end && seen >= id) break;
    await sleep(100);
  }
  await driver;
  const cpu = cpuSeconds(child) - cpuBefore;
  child.kill("SIGTERM");
  await ch.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuSPerMillion: cpu / (id / 1e6), changes: id };
}

export async function main(): Promise<Record<string, unknown>> {
  const env = await stackEnv();
  const admin = pgClient(env, "postgres");
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, log: { level: ClickHouseLogLevel.OFF } });
  await ch.command({ query: `CREATE DATABASE ${DB}` });
  const src = pgClient(env, DB);
  await src.connect();
  try {
    log(`creating a ${ROWS}-row table`);
    await src.query(`CREATE TABLE big (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)`);
    await src.query(`INSERT INTO big SELECT g, 'name ' || g, g / 100.0, '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, ${ROWS}) g`);
    await src.query("ANALYZE big");
    const cli = await buildCli();
    const copy = await copyPeer(src);
    log(`COPY TO STDOUT: ${copy.toFixed(0)} rows/s`);
    const raw = await rawInsertPeer(env, src);
    log(`raw ClickHouse insert: ${raw.toFixed(0)} rows/s`);
    const snap = await snapshotRun(env, cli);
    log(`snapshot: ${snap.rowsPerS.toFixed(0)} rows/s`);
    const rep = await replicationRun(env, cli, src);
    log(`replication at ${RATE}/s: p50 ${rep.p50} ms, p99 ${rep.p99} ms, ${rep.cpuSPerMillion.toFixed(1)} CPU s per million changes`);
    return {
      snapshot_rows: ROWS,
      snapshot_rows_per_s: Math.round(snap.rowsPerS),
      copy_to_stdout_rows_per_s: Math.round(copy),
      raw_clickhouse_insert_rows_per_s: Math.round(raw),
      replication_rate_per_s: RATE,
      replication_changes: rep.changes,
      replication_p50_ms: rep.p50,
      replication_p99_ms: rep.p99,
      replication_cpu_s_per_million_changes: Number(rep.cpuSPerMillion.toFixed(1)),
      sync_interval_s: 1,
    };
  } finally {
    await src.end();
    const drop = pgClient(env, "postgres");
    await drop.connect();
    await drop.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", [DB]).catch(() => undefined);
    await drop.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => undefined);
    await drop.end();
    await ch.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
    await ch.close();
  }
}
