import type { ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseClickPipe, type ClickPipe } from "../../src/api/index.js";
import { runPipe } from "../../src/ingest/runner.js";
import { secretsFromDocuments } from "../../src/ingest/secrets.js";
import type { Checkpoint, RawRecord, RecordSink, Source } from "../../src/ingest/source.js";
import type { SourceContext, SourcePlugin } from "../../src/sources/plugin.js";
import { registerPlugin } from "../../src/sources/registry.js";
import { clickhouse, count, queryRows, uniqueName } from "./ingest-helpers.js";

/**
 * The proof that the next source is one folder: a plugin written here, registered at run
 * time, runs through the real pipeline into the ClickHouse engine. Its positions are not
 * numbers, it writes two tables, keeps its positions in the checkpoint store, and ends.
 */
const env = inject("stackEnv");
const db = uniqueName("plugin");
let ch: ClickHouseClient;

interface Line {
  readonly file: string;
  readonly line: number;
  readonly table: string;
  readonly value: string;
}

/** Two "files", each line a record for table a or b; one malformed line. */
const LINES: Line[] = [
  ...Array.from({ length: 5 }, (_, i) => ({ file: "logs/2026/a.json", line: i + 1, table: "a", value: JSON.stringify({ id: i, name: `a${i}` }) })),
  ...Array.from({ length: 4 }, (_, i) => ({ file: "logs/2026/b.json", line: i + 1, table: i % 2 === 1 ? "b" : "a", value: i === 1 ? "{not json" : JSON.stringify({ id: 100 + i, name: `b${i}` }) })),
];

class LinesSource implements Source {
  private delivering: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: SourceContext, private readonly seen: { starts: ReadonlyMap<string, string>[] }) {}

  async start(sink: RecordSink): Promise<void> {
    const done = await this.ctx.checkpoints.load();
    this.seen.starts.push(done);
    this.delivering = this.deliver(sink, done);
  }

  private async deliver(sink: RecordSink, done: ReadonlyMap<string, string>): Promise<void> {
    const records: RawRecord[] = LINES.filter((l) => done.get(l.file) !== "end").map((l) => ({ value: Buffer.from(l.value), key: null, timestamp: Date.UTC(2026, 0, 1), stream: l.file, position: `line-${l.line}`, table: l.table === "b" ? "plugin_b" : "plugin_a" }));
    if (records.length > 0) await sink.onRecords(records);
    // Each file is finished: its end is a position of its own, reached without a record.
    await sink.onProgress([...new Set(LINES.map((l) => l.file))].map((file): Checkpoint => ({ stream: file, position: "end" })));
    await sink.onEnd();
  }

  async stopDelivering(): Promise<void> {
    await this.delivering;
  }

  commit(): Promise<void> {
    // Positions live in the checkpoint store (clickpipes_state), written before this is called.
    return Promise.resolve();
  }

  lag(): Promise<Map<string, number>> {
    return Promise.resolve(new Map<string, number>());
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function linesPlugin(seen: { starts: ReadonlyMap<string, string>[] }): SourcePlugin {
  return {
    // A kind this build has no plugin for and the stack cannot run: the test's plugin stands in for it.
    kind: "mongodb",
    capabilities: () => ({ maxReplicas: 1, mode: "oneShot", lagUnit: "records", positions: "checkpointStore", replicaIdentity: "none" }),
    virtualColumns: [
      { name: "_file", value: (r) => r.stream },
      { name: "_line", value: (r) => r.position },
    ],
    secretReferences: () => [],
    tables: (spec) => (spec.source.mongodb?.tableMappings ?? []).map((m) => m.targetTable),
    format: () => ({ format: "JSONEachRow" }),
    open: (ctx) => new LinesSource(ctx, seen),
  };
}

function pipe(): ClickPipe {
  return parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "lines", namespace: "plugins" },
    spec: {
      source: {
        mongodb: {
          uri: "mongodb://unused.example",
          credentialsSecretRef: { name: "unused" },
          tableMappings: [
            { sourceDatabaseName: "logs", sourceCollection: "a", targetTable: "plugin_a" },
            { sourceDatabaseName: "logs", sourceCollection: "b", targetTable: "plugin_b" },
          ],
        },
      },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: db,
        // The tables of a table-mapping source are the user's until that source describes them (CDC).
        managedTable: false,
      },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

const secrets = (): ReturnType<typeof secretsFromDocuments> =>
  secretsFromDocuments([{ metadata: { name: "ch-admin" }, stringData: { username: env.CLICKHOUSE_USER!, password: env.CLICKHOUSE_PASSWORD! } }]);

beforeAll(async () => {
  ch = clickhouse(env);
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  for (const table of ["plugin_a", "plugin_b"]) {
    await ch.command({ query: `CREATE TABLE ${db}.${table} (id UInt32, name String, _file String, _line String) ENGINE = MergeTree ORDER BY id` });
  }
});

afterAll(async () => {
  await ch?.close();
});

describe("a source plugin registered by a test", () => {
  it("runs through the real pipeline into two tables, with positions that are not numbers, and completes", async () => {
    const seen = { starts: [] as ReadonlyMap<string, string>[] };
    const restore = registerPlugin(linesPlugin(seen));
    try {
      expect(await runPipe({ pipe: pipe(), secrets: secrets() }, { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 })).toBe(0);
      expect(await queryRows(ch, `SELECT id, name, _file, _line FROM ${db}.plugin_a ORDER BY id`)).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => ({ id: i, name: `a${i}`, _file: "logs/2026/a.json", _line: `line-${i + 1}` })),
        { id: 100, name: "b0", _file: "logs/2026/b.json", _line: "line-1" },
        { id: 102, name: "b2", _file: "logs/2026/b.json", _line: "line-3" },
      ]);
      expect(await queryRows(ch, `SELECT id, _line FROM ${db}.plugin_b`)).toEqual([{ id: 103, _line: "line-4" }]);
      expect(await queryRows(ch, `SELECT error_type, raw_message, source_position FROM ${db}.plugin_b_clickpipes_error`)).toEqual([
        { error_type: "DECODE_ERROR", raw_message: "{not json", source_position: "logs/2026/b.json/line-2" },
      ]);
      expect(await queryRows(ch, `SELECT source_position AS stream, argMax(position, last_insert_time) AS position, sum(rows) AS rows FROM ${db}.clickpipes_state WHERE pipe = 'plugins/lines' GROUP BY stream ORDER BY stream`)).toEqual([
        { stream: "logs/2026/a.json", position: "end", rows: "5" },
        { stream: "logs/2026/b.json", position: "end", rows: "3" },
      ]);
      expect(await count(ch, `SELECT count() AS n FROM ${db}.clickpipes_log WHERE pipe = 'plugins/lines' AND error_type = 'PHASE' AND message = 'Completed'`)).toBe(1);

      // Run again: the plugin reads its positions back from the checkpoint store and delivers nothing twice.
      expect(await runPipe({ pipe: pipe(), secrets: secrets() }, { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 })).toBe(0);
      expect(seen.starts[0]?.size).toBe(0);
      expect(Object.fromEntries(seen.starts[1] ?? [])).toEqual({ "logs/2026/a.json": "end", "logs/2026/b.json": "end" });
      expect(await count(ch, `SELECT count() AS n FROM ${db}.plugin_a`)).toBe(7);
    } finally {
      restore();
    }
  });
});
