import { describe, expect, it } from "vitest";
import { parseClickPipe, type ClickPipeSpec } from "../api/index.js";
import type { SqlRunner } from "./client.js";
import { createTableSql } from "./ddl.js";
import { filesTableSql, finishedFilesSql, insertFilesSql } from "./files-table.js";
import { checkPipeTables, createPipeTables, pipeTableSpecs } from "./pipe-tables.js";
import { grantsSql } from "./users.js";

function objectStorageSpec(): ClickPipeSpec {
  return parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "files", namespace: "ns" },
    spec: {
      source: { objectStorage: { type: "s3", url: "https://b.s3.amazonaws.com/data/*.json", format: "JSONEachRow" } },
      destination: { clickhouse: { url: "http://ch:8123", credentialsSecretRef: { name: "ch-admin" } }, database: "db", table: "events", managedTable: true, columns: [{ name: "id", type: "UInt64" }] },
    },
  }).spec;
}

/** Every table exists with one column; records statements. */
class Recorder implements SqlRunner {
  readonly statements: string[] = [];
  constructor(private readonly tables: readonly string[]) {}
  query(params: { query: string; query_params?: Record<string, unknown> }): Promise<{ json<T>(): Promise<T[]> }> {
    this.statements.push(params.query);
    const wanted = ((params.query_params?.tables ?? []) as string[]).filter((t) => this.tables.includes(t));
    return Promise.resolve({ json: <T,>() => Promise.resolve(wanted.map((table) => ({ table, name: "id", type: "UInt64", default_kind: "" })) as T[]) });
  }
  command(params: { query: string }): Promise<unknown> {
    this.statements.push(params.query);
    return Promise.resolve(undefined);
  }
}

describe("the table of ingested files", () => {
  it("keeps one row per pipe and path for 7 days", () => {
    const sql = filesTableSql("db", "events");
    expect(sql).toContain("CREATE TABLE IF NOT EXISTS `db`.`events_clickpipes_archive`");
    for (const column of ["path String", "size UInt64", "etag String", "rows UInt64", "time DateTime64(3, 'UTC')", "status LowCardinality(String)"]) expect(sql).toContain(column);
    expect(sql).toContain("ENGINE = ReplacingMergeTree(time)\nORDER BY (pipe, path)\nTTL toDateTime(time) + INTERVAL 7 DAY");
  });

  it("writes rows as quoted literals and reads the newest status per path through parameters", () => {
    const sql = insertFilesSql("db", "events", [{ pipe: "ns/p", path: "it's/a\\b.json", size: 10, etag: "e", rows: 3, time: 1_700_000_000_000, status: "done" }]);
    expect(sql).toBe(
      "INSERT INTO `db`.`events_clickpipes_archive` (pipe, path, size, etag, rows, time, status) VALUES ('ns/p', 'it\\'s/a\\\\b.json', 10, 'e', 3, fromUnixTimestamp64Milli(1700000000000, 'UTC'), 'done')",
    );
    expect(finishedFilesSql("db", "events", true)).toContain("WHERE pipe = {pipe:String} AND path = {path:String}");
  });

  it("is created beside the destination of a file source, whose managed table gets a deduplication window", async () => {
    const ch = new Recorder(["events"]);
    const outcomes = await createPipeTables(ch, pipeTableSpecs(objectStorageSpec(), ["events"], { filesTable: true }));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(ch.statements.find((s) => s.startsWith("CREATE TABLE IF NOT EXISTS `db`.`events`\n"))).toContain("SETTINGS non_replicated_deduplication_window = 1000");
    expect(ch.statements.some((s) => s.startsWith("CREATE TABLE IF NOT EXISTS `db`.`events_clickpipes_archive`"))).toBe(true);
    // Without the capability: neither.
    const plain = new Recorder(["events"]);
    await createPipeTables(plain, pipeTableSpecs(objectStorageSpec(), ["events"]));
    expect(plain.statements.join("\n")).not.toMatch(/_clickpipes_archive|non_replicated_deduplication_window/);
  });

  it("is checked by a consumer, which names it when absent", async () => {
    const ch = new Recorder(["events", "events_clickpipes_error", "clickpipes_log", "clickpipes_state"]);
    const outcomes = await checkPipeTables(ch, pipeTableSpecs(objectStorageSpec(), ["events"], { filesTable: true }));
    expect(outcomes.filter((o) => !o.ok).map((o) => o.table)).toContain("events_clickpipes_archive");
  });

  it("is readable and writable by the pipe's user", () => {
    for (const permissions of [{ kind: "destinationOnly" } as const, { kind: "customRole", role: "r" } as const]) {
      expect(grantsSql(permissions, "db", ["events"], "u", { filesTable: true })).toContain("GRANT INSERT, SELECT ON `db`.`events_clickpipes_archive` TO `u`");
    }
    expect(grantsSql({ kind: "destinationOnly" }, "db", ["events"], "u").join("\n")).not.toContain("_clickpipes_archive");
  });
});

describe("the managed table's deduplication window", () => {
  it("joins the other table settings, and a Null table takes none", () => {
    const columns = [{ name: "k", type: "Nullable(String)" }];
    expect(createTableSql({ database: "db", table: "t", columns, tableDefinition: { engine: { type: "MergeTree" }, sortingKey: ["k"] } }, { deduplicationWindow: 1000 })).toContain(
      "SETTINGS allow_nullable_key = 1, non_replicated_deduplication_window = 1000",
    );
    expect(createTableSql({ database: "db", table: "t", columns, tableDefinition: { engine: { type: "Null" } } }, { deduplicationWindow: 1000 })).not.toContain("SETTINGS");
  });
});
