/**
 * Helpers for the Postgres CDC suites: a Postgres database of the test's own on the stack's
 * server, a `clickpipes run` file for a Postgres pipe, and the comparison of a source table
 * with its ClickHouse table (FINAL, live rows) by count and checksum over every column.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client";
import pg from "pg";
import { stringify } from "yaml";
import type { StackEnv } from "../helpers/stack-clients.js";

export function pgAdmin(env: StackEnv, database = "postgres"): pg.Client {
  return new pg.Client({ host: env.POSTGRES_HOST, port: Number(env.POSTGRES_PORT), user: env.POSTGRES_USER, password: env.POSTGRES_PASSWORD, database, options: "-c TimeZone=UTC" });
}

/** A fresh Postgres database; returns a connected client to it. */
export async function freshDatabase(env: StackEnv, name: string): Promise<pg.Client> {
  const admin = pgAdmin(env);
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const client = pgAdmin(env, name);
  await client.connect();
  return client;
}

/** Drops the slots left in `database` (tests that stop consumers with kill -9 leave them) and the database. */
export async function dropDatabase(env: StackEnv, name: string): Promise<void> {
  const admin = pgAdmin(env);
  await admin.connect();
  try {
    await admin.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL", [name]);
    await admin.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", [name]);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export interface PgPipeOptions {
  readonly name: string;
  readonly pgDatabase: string;
  readonly chDatabase: string;
  readonly tables: readonly (string | Record<string, unknown>)[];
  readonly settings?: Record<string, unknown>;
  readonly source?: Record<string, unknown>;
  readonly pipeSettings?: Record<string, unknown>;
  readonly secrets?: Record<string, Record<string, string>>;
}

export function pgPipe(env: StackEnv, o: PgPipeOptions): Record<string, unknown> {
  return {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name.replaceAll("_", "-"), namespace: "test" },
    spec: {
      source: {
        postgres: {
          host: env.POSTGRES_HOST,
          port: Number(env.POSTGRES_PORT),
          database: o.pgDatabase,
          credentialsSecretRef: { name: "pg" },
          settings: { syncIntervalSeconds: 1, ...o.settings },
          tableMappings: o.tables.map((t) => (typeof t === "string" ? { sourceSchemaName: "public", sourceTable: t, targetTable: t } : t)),
          ...o.source,
        },
      },
      destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } }, database: o.chDatabase, permissions: "full" },
      settings: { streamingMaxInsertWaitTime: "1s", ...o.pipeSettings },
    },
  };
}

/** A `clickpipes run` file with the pipe and its Secrets. */
export function writePgPipeFile(env: StackEnv, o: PgPipeOptions): string {
  const dir = mkdtempSync(join(tmpdir(), "pg-pipe-"));
  const secrets = {
    "ch-admin": { username: env.CLICKHOUSE_USER as string, password: env.CLICKHOUSE_PASSWORD as string },
    pg: { username: env.POSTGRES_USER as string, password: env.POSTGRES_PASSWORD as string },
    ...o.secrets,
  };
  const docs = [pgPipe(env, o), ...Object.entries(secrets).map(([name, stringData]) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData }))];
  const file = join(dir, "pipe.yaml");
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

/**
 * The canonical text of one value, the same from both sides: numbers without trailing
 * zeros, timestamps to the microsecond, arrays and JSON re-serialised, NULL as \N.
 */
export function canon(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  if (Array.isArray(value)) return JSON.stringify(value.map((v) => canon(v)));
  const s = typeof value === "string" ? value : JSON.stringify(value);
  if (/^-?\d+\.\d+$/.test(s)) return s.replace(/0+$/, "").replace(/\.$/, "");
  const ts = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(\.\d+)?(\+00(:00)?)?$/.exec(s);
  if (ts !== null) return `${ts[1]?.replace("T", " ")}.${(ts[2] ?? ".").slice(1).padEnd(6, "0")}`;
  return s;
}

export interface TableDigest {
  readonly count: number;
  readonly checksum: string;
}

function digest(rows: readonly Record<string, unknown>[], columns: readonly string[]): TableDigest {
  const lines = rows.map((r) => columns.map((c) => canon(r[c])).join("\t")).sort();
  const hash = createHash("sha256");
  for (const l of lines) hash.update(`${l}\n`);
  return { count: lines.length, checksum: hash.digest("hex") };
}

/** Postgres side: every column as text (arrays as JSON arrays of text, jsonb as its canonical text). */
export async function pgDigest(client: pg.Client, table: string, columns: readonly string[], arrays: readonly string[] = []): Promise<TableDigest> {
  const select = columns.map((c) => (arrays.includes(c) ? `to_json(${c})::text AS ${c}` : `${c}::text AS ${c}`)).join(", ");
  const result = await client.query<Record<string, string | null>>({ text: `SELECT ${select} FROM ${table}`, types: { getTypeParser: () => (v: string) => v } });
  const rows = result.rows.map((r) => Object.fromEntries(columns.map((c) => [c, arrays.includes(c) && r[c] !== null ? (JSON.parse(r[c] as string) as unknown[]).map((v: unknown) => (v === null ? null : typeof v === "object" ? JSON.stringify(v) : String(v as string | number))) : r[c]])));
  return digest(rows, columns);
}

/** ClickHouse side: the live rows of the target (FINAL, _peerdb_is_deleted = 0), every column as text. */
export async function chDigest(ch: ClickHouseClient, database: string, table: string, columns: readonly string[], arrays: readonly string[] = []): Promise<TableDigest> {
  const select = columns.map((c) => (arrays.includes(c) ? `arrayMap(x -> toString(x), ${c}) AS ${c}` : `toString(${c}) AS ${c}`)).join(", ");
  const result = await ch.query({ query: `SELECT ${select} FROM ${database}.${table} FINAL WHERE _peerdb_is_deleted = 0`, format: "JSONEachRow" });
  const rows = await result.json<Record<string, unknown>>();
  const nulled = rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] === "\\N" ? null : r[c]])));
  return digest(nulled, columns);
}
