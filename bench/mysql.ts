/**
 * MySQL CDC benchmarks on the stack's MariaDB, each figure beside its peer from the same run:
 *
 * - snapshot: rows/s of a `replicationMode: snapshot` pipe (`clickpipes run`, from its
 *   Snapshot phase to Completed, rows in ClickHouse) against a raw mysql2 `SELECT *` stream of
 *   the same table that does nothing with the rows (the source's own ceiling);
 * - replication: end-to-end latency (source commit → row visible in ClickHouse) at a steady
 *   BENCH_RATE changes/s (default 5,000: one multi-row INSERT every 100 ms), p50/p99 over the
 *   batches, against a raw binlog reader (zongji) in the same run: commit → event received.
 *
 * Env: BENCH_ROWS (snapshot rows, default 200000), BENCH_RATE (default 5000),
 * BENCH_SECONDS (replication duration, default 20).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickHouseLogLevel, type ClickHouseClient, createClient } from "@clickhouse/client";
import ZongJi, { type AnyBinlogEvent } from "@vlasky/zongji";
import { type Connection, createConnection } from "mysql2/promise";
import { stringify } from "yaml";
import { loadStackEnv, repoRoot, type StackEnv } from "../test/stack/env.js";
import { up } from "../test/stack/stack.js";

const log = (msg: string): void => void process.stderr.write(`[bench mysql ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function stackEnv(): Promise<StackEnv> {
  try {
    const env = loadStackEnv();
    if (env.MYSQL_URL !== undefined && env.CLICKHOUSE_URL !== undefined) return env;
  } catch (err) {
    log(`no stack env yet (${err instanceof Error ? err.message : String(err)}), starting clickhouse and mariadb`);
  }
  return up(["clickhouse", "mariadb"]);
}

const mysqlOptions = (env: StackEnv): { host: string; port: number; user: string; password: string } => ({
  host: env.MYSQL_HOST ?? "127.0.0.1",
  port: Number(env.MYSQL_PORT),
  user: env.MYSQL_USER ?? "",
  password: env.MYSQL_PASSWORD ?? "",
});

function pipeFile(env: StackEnv, o: { name: string; database: string; src: string; table: string; mode: string; waitMs: number }): string {
  const docs = [
    {
      apiVersion: "clickpipes.io/v1alpha1",
      kind: "ClickPipe",
      metadata: { name: o.name, namespace: "bench" },
      spec: {
        source: {
          mysql: {
            host: env.MYSQL_HOST,
            port: Number(env.MYSQL_PORT),
            credentialsSecretRef: { name: "mysql" },
            settings: { replicationMode: o.mode, snapshotNumRowsPerPartition: 50_000, initialLoadParallelism: 2 },
            tableMappings: [{ sourceSchemaName: o.src, sourceTable: o.table, targetTable: o.table }],
          },
        },
        destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch" } }, database: o.database },
        settings: { streamingMaxInsertWaitTime: `${o.waitMs}ms`, maxBatchRows: 100_000 },
      },
    },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ch" }, stringData: { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "mysql" }, stringData: { username: env.MYSQL_USER, password: env.MYSQL_PASSWORD } },
  ];
  const file = join(mkdtempSync(join(tmpdir(), "bench-mysql-")), "pipe.yaml");
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

interface Run {
  readonly child: ChildProcess;
  /** Times of the JSON log messages seen, by message. */
  readonly seen: Map<string, number>;
  readonly exited: Promise<number | null>;
}

function runPipe(file: string): Run {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), "run", "-f", file], { cwd: repoRoot, env: { ...process.env, CLICKPIPES_HTTP_PORT: "0", LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "inherit"] });
  const seen = new Map<string, number>();
  let rest = "";
  child.stdout?.on("data", (d: Buffer) => {
    const lines = (rest + d.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      try {
        const { msg, time } = JSON.parse(line) as { msg?: string; time?: string };
        if (msg !== undefined && !seen.has(msg)) seen.set(msg, Date.parse(time ?? "") || Date.now());
      } catch {
        // not a log line
      }
    }
  });
  return { child, seen, exited: new Promise((resolve) => child.once("exit", resolve)) };
}

async function rawSelect(env: StackEnv, src: string): Promise<{ rows: number; rowsPerSec: number }> {
  const conn = await createConnection({ ...mysqlOptions(env), dateStrings: true, supportBigNumbers: true });
  const started = Date.now();
  let rows = 0;
  const query = (conn as unknown as { connection: { query(sql: string): { stream(): AsyncIterable<unknown> } } }).connection.query(`SELECT * FROM ${src}.snap`);
  for await (const _row of query.stream()) rows += 1;
  const secs = (Date.now() - started) / 1000;
  await conn.end();
  return { rows, rowsPerSec: Math.round(rows / secs) };
}

interface BenchCtx {
  readonly env: StackEnv;
  readonly my: Connection;
  readonly ch: ClickHouseClient;
  /** Source database and ClickHouse database of this run. */
  readonly src: string;
  readonly database: string;
}

async function snapshotBench({ env, my, ch, src, database }: BenchCtx, rows: number): Promise<Record<string, number>> {
  await my.query(`CREATE TABLE ${src}.snap (id BIGINT PRIMARY KEY, a INT NOT NULL, s VARCHAR(64) NOT NULL, d DECIMAL(12,2) NOT NULL, ts DATETIME(6) NOT NULL)`);
  await my.query(`INSERT INTO ${src}.snap SELECT seq, seq MOD 1000, MD5(seq), seq / 100, '2024-01-01' + INTERVAL seq SECOND FROM ${src}.seq_1_to_${rows}`);
  log(`snapshot: ${rows} rows in ${src}.snap; raw SELECT stream first`);
  const raw = await rawSelect(env, src);
  log(`raw SELECT stream: ${raw.rowsPerSec} rows/s`);
  const run = runPipe(pipeFile(env, { name: "snap", database, src, table: "snap", mode: "snapshot", waitMs: 1000 }));
  const code = await run.exited;
  if (code !== 0) throw new Error(`the snapshot pipe exited ${code}`);
  const from = run.seen.get("Snapshot") ?? run.seen.get("MySQL source ready");
  const to = run.seen.get("the source delivered everything and it is committed: the pipe is Completed");
  const inCh = Number((await (await ch.query({ query: `SELECT count() AS n FROM ${database}.snap`, format: "JSONEachRow" })).json<{ n: string }>())[0]?.n ?? 0);
  if (from === undefined || to === undefined || inCh !== rows) throw new Error(`snapshot not measured (start ${from}, end ${to}, ${inCh}/${rows} rows in ClickHouse)`);
  const rowsPerSec = Math.round(rows / ((to - from) / 1000));
  log(`pipe snapshot: ${rowsPerSec} rows/s (${rows} rows in ${(to - from) / 1000} s)`);
  const insertCeiling = await clickhouseInsertCeiling(ch, database, rows);
  log(`ClickHouse JSONEachRow insert of the same rows: ${insertCeiling} rows/s`);
  return {
    snapshot_rows: rows,
    snapshot_rows_per_sec: rowsPerSec,
    raw_select_rows_per_sec: raw.rowsPerSec,
    snapshot_vs_raw_select: Number((rowsPerSec / raw.rowsPerSec).toFixed(3)),
    clickhouse_insert_rows_per_sec: insertCeiling,
  };
}

/** The destination's side: the pipe's own rows (read back as JSONEachRow) inserted into an empty copy in one request. */
async function clickhouseInsertCeiling(ch: ClickHouseClient, database: string, rows: number): Promise<number> {
  const body = await (await ch.query({ query: `SELECT * FROM ${database}.snap`, format: "JSONEachRow" })).text();
  await ch.command({ query: `CREATE TABLE ${database}.snap_copy AS ${database}.snap` });
  const started = Date.now();
  await ch.command({ query: `INSERT INTO ${database}.snap_copy FORMAT JSONEachRow\n${body}` });
  return Math.round(rows / ((Date.now() - started) / 1000));
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A raw binlog reader on the same server: when each batch's first row arrives. */
function rawReader(env: StackEnv, src: string, arrived: Map<number, number>): Promise<ZongJi> {
  const z = new ZongJi(mysqlOptions(env));
  z.on("binlog", (e: AnyBinlogEvent) => {
    if (e.getEventName() !== "writerows" || !("rows" in e)) return;
    for (const row of e.rows as { batch?: number }[]) if (row.batch !== undefined && !arrived.has(row.batch)) arrived.set(row.batch, Date.now());
  });
  return new Promise((resolve, reject) => {
    z.once("ready", () => resolve(z));
    z.once("error", reject);
    z.start({ startAtEnd: true, serverId: 0x7000_0001, includeEvents: ["tablemap", "writerows"], includeSchema: { [src]: ["repl"] } });
  });
}

async function replicationBench({ env, my, ch, src, database }: BenchCtx, rate: number, seconds: number): Promise<Record<string, number>> {
  await my.query(`CREATE TABLE ${src}.repl (id BIGINT AUTO_INCREMENT PRIMARY KEY, batch INT NOT NULL, s VARCHAR(64) NOT NULL)`);
  const run = runPipe(pipeFile(env, { name: "repl", database, src, table: "repl", mode: "cdc_only", waitMs: 200 }));
  const deadline = Date.now() + 120_000;
  while (!run.seen.has("reading the binlog")) {
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error("the replication pipe did not start reading");
    await sleep(100);
  }
  const arrived = new Map<number, number>();
  const raw = await rawReader(env, src, arrived);
  const committed = new Map<number, number>();
  const visible = new Map<number, number>();
  const perBatch = Math.round(rate / 10);
  const batches = seconds * 10;
  let polling = true;
  const poller = (async () => {
    while (polling || visible.size < committed.size) {
      const rows = await (await ch.query({ query: `SELECT DISTINCT batch FROM ${database}.repl`, format: "JSONEachRow" })).json<{ batch: number }>();
      const now = Date.now();
      for (const { batch } of rows) if (!visible.has(batch)) visible.set(batch, now);
      await sleep(20);
      if (!polling && Date.now() > deadline + 300_000) break;
    }
  })();
  log(`replication: ${batches} batches of ${perBatch} rows every 100 ms (${rate} changes/s)`);
  const started = Date.now();
  for (let b = 0; b < batches; b += 1) {
    const values = Array.from({ length: perBatch }, () => `(${b}, '${randomBytes(16).toString("hex")}')`).join(", ");
    await my.query(`INSERT INTO ${src}.repl (batch, s) VALUES ${values}`);
    committed.set(b, Date.now());
    const wait = started + (b + 1) * 100 - Date.now();
    if (wait > 0) await sleep(wait);
  }
  const achieved = Math.round((batches * perBatch) / ((Date.now() - started) / 1000));
  polling = false;
  await poller;
  raw.stop();
  run.child.kill("SIGTERM");
  await run.exited;
  const latencies = [...committed].map(([b, t]) => (visible.get(b) ?? Number.NaN) - t).filter((x) => Number.isFinite(x));
  const rawLatencies = [...committed].map(([b, t]) => (arrived.get(b) ?? Number.NaN) - t).filter((x) => Number.isFinite(x));
  log(`pipe latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms; raw binlog p50 ${percentile(rawLatencies, 50)} ms`);
  return {
    replication_changes_per_sec: achieved,
    replication_latency_p50_ms: percentile(latencies, 50),
    replication_latency_p99_ms: percentile(latencies, 99),
    raw_binlog_latency_p50_ms: percentile(rawLatencies, 50),
    raw_binlog_latency_p99_ms: percentile(rawLatencies, 99),
    replication_batches_measured: latencies.length,
  };
}

export async function main(): Promise<Record<string, unknown>> {
  const env = await stackEnv();
  const rows = Number(process.env.BENCH_ROWS ?? 200_000);
  const rate = Number(process.env.BENCH_RATE ?? 5_000);
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  const id = randomBytes(3).toString("hex");
  const src = `bench_src_${id}`;
  const database = `bench_mysql_${id}`;
  const my = await createConnection({ ...mysqlOptions(env), multipleStatements: true });
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, request_timeout: 300_000, log: { level: ClickHouseLogLevel.OFF } });
  await my.query(`CREATE DATABASE ${src}`);
  await ch.command({ query: `CREATE DATABASE ${database}` });
  try {
    const ctx = { env, my, ch, src, database };
    const snapshot = await snapshotBench(ctx, rows);
    const replication = await replicationBench(ctx, rate, seconds);
    return { bench: "mysql", server: "MariaDB 10.11 (stack)", ...snapshot, ...replication, replication_target_changes_per_sec: rate };
  } finally {
    await my.query(`DROP DATABASE IF EXISTS ${src}`);
    await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await my.end();
    await ch.close();
  }
}
