import { describe, expect, it } from "vitest";
import { parseClickPipe, type ClickPipeSpec } from "../api/index.js";
import type { SqlRunner } from "./client.js";
import { checkPipeTables, createPipeTables, judgeTable, pipeTableSpecs, type PipeTableSpec } from "./pipe-tables.js";
import type { ActualColumn } from "./schema-check.js";

function kafkaSpec(destination: Record<string, unknown>, fieldMappings?: { sourceField: string; destinationField: string }[]): ClickPipeSpec {
  return parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "events", namespace: "analytics" },
    spec: {
      source: { kafka: { brokers: "b1:9092", topics: "events" } },
      destination: { clickhouse: { url: "http://ch:8123", credentialsSecretRef: { name: "ch-admin" } }, database: "db", table: "events", ...destination },
      ...(fieldMappings === undefined ? {} : { fieldMappings }),
    },
  }).spec;
}

const stateColumns: ActualColumn[] = [
  ["pipe", "String"],
  ["source_position", "String"],
  ["rows", "SimpleAggregateFunction(sum, UInt64)"],
  ["bytes", "SimpleAggregateFunction(sum, UInt64)"],
  ["record_errors", "SimpleAggregateFunction(sum, UInt64)"],
  ["batches", "SimpleAggregateFunction(sum, UInt64)"],
  ["position", "SimpleAggregateFunction(anyLast, String)"],
  ["lag", "SimpleAggregateFunction(anyLast, Int64)"],
  ["last_insert_time", "SimpleAggregateFunction(max, DateTime64(3, 'UTC'))"],
].map(([name, type]) => ({ name: name as string, type: type as string, defaultKind: "" }));

/** Answers system.columns from a fixed catalog (table -> columns) and records every statement. */
class FakeClickHouse implements SqlRunner {
  readonly statements: string[] = [];
  constructor(private readonly catalog: Map<string, ActualColumn[]>) {}

  query(params: { query: string; query_params?: Record<string, unknown> }): Promise<{ json<T>(): Promise<T[]> }> {
    this.statements.push(params.query);
    const wanted = (params.query_params?.tables ?? []) as string[];
    const rows = wanted.flatMap((table) => (this.catalog.get(table) ?? []).map((c) => ({ table, name: c.name, type: c.type, default_kind: c.defaultKind ?? "" })));
    return Promise.resolve({ json: <T,>() => Promise.resolve(rows as T[]) });
  }

  command(params: { query: string }): Promise<unknown> {
    this.statements.push(params.query);
    return Promise.resolve(undefined);
  }
}

describe("pipeTableSpecs", () => {
  it("expects the spec's columns with their types and the mapping targets by name", () => {
    const spec = kafkaSpec({ managedTable: false, columns: [{ name: "id", type: "UInt64" }] }, [
      { sourceField: "user.id", destinationField: "id" },
      { sourceField: "at", destinationField: "ts" },
    ]);
    expect(pipeTableSpecs(spec, ["events"])).toEqual([{ database: "db", table: "events", managed: false, columns: [{ name: "id", type: "UInt64" }], tableDefinition: undefined, expected: [{ name: "id", type: "UInt64" }, { name: "ts" }] }]);
  });

  it("uses every other table of a many-table pipe as it exists", () => {
    const spec = kafkaSpec({ columns: [{ name: "id", type: "UInt64" }] });
    expect(pipeTableSpecs(spec, ["events", "orders", "orders"]).map((t) => [t.table, t.managed, t.expected.length])).toEqual([
      ["events", true, 1],
      ["orders", false, 0],
    ]);
  });
});

describe("judgeTable", () => {
  const existing: PipeTableSpec = { database: "db", table: "events", managed: false, expected: [{ name: "id", type: "UInt64" }] };

  it("fills the table's insertable columns when the spec lists none", () => {
    const actual = [
      { name: "id", type: "UInt64", defaultKind: "" },
      { name: "day", type: "Date", defaultKind: "MATERIALIZED" },
      { name: "msg", type: "String", defaultKind: "DEFAULT" },
    ];
    expect(judgeTable(existing, actual)).toEqual({ ok: true, database: "db", table: "events", columns: [{ name: "id", type: "UInt64" }, { name: "msg", type: "String" }] });
  });

  it("names a missing table and a column of another type", () => {
    expect(judgeTable(existing, undefined)).toEqual({ ok: false, database: "db", table: "events", problem: "TableNotFound", message: "table db.events does not exist (or the user has no privilege on it): create the table, or set managedTable: true with columns" });
    expect(judgeTable(existing, [{ name: "id", type: "String" }])).toMatchObject({ ok: false, problem: "SchemaMismatch", message: 'table db.events does not match the pipe: column "id" has type String in the table, but the pipe expects UInt64' });
  });
});

describe("createPipeTables", () => {
  it("creates log and state, migrates an earlier state table, creates the managed table and then its error table", async () => {
    const earlierState = stateColumns.map((c) => (c.name === "position" ? { ...c, type: "SimpleAggregateFunction(max, Int64)" } : c));
    const ch = new FakeClickHouse(new Map([["clickpipes_state", earlierState], ["events", [{ name: "id", type: "UInt64" }]]]));
    const outcomes = await createPipeTables(ch, pipeTableSpecs(kafkaSpec({ columns: [{ name: "id", type: "UInt64" }] }), ["events"]));
    expect(outcomes).toEqual([{ ok: true, database: "db", table: "events", columns: [{ name: "id", type: "UInt64" }] }]);
    const heads = ch.statements.map((s) => s.split("\n")[0]);
    expect(heads).toEqual([
      "CREATE TABLE IF NOT EXISTS `db`.`clickpipes_log`",
      "CREATE TABLE IF NOT EXISTS `db`.`clickpipes_state`",
      expect.stringContaining("FROM system.columns"),
      "ALTER TABLE `db`.`clickpipes_state` MODIFY COLUMN position SimpleAggregateFunction(anyLast, String)",
      "CREATE TABLE IF NOT EXISTS `db`.`events`",
      expect.stringContaining("FROM system.columns"),
      "CREATE TABLE IF NOT EXISTS `db`.`events_clickpipes_error`",
    ]);
  });

  it("reports a spec that cannot become a table, and an existing table that does not fit, without their error tables", async () => {
    const ch = new FakeClickHouse(new Map([["clickpipes_state", stateColumns], ["other", [{ name: "x", type: "String" }]]]));
    const bad = pipeTableSpecs(kafkaSpec({ columns: [{ name: "id", type: "UInt64" }], tableDefinition: { sortingKey: ["nope"] } }), ["events"]);
    const other: PipeTableSpec = { database: "db", table: "other", managed: false, expected: [{ name: "id" }] };
    const outcomes = await createPipeTables(ch, [...bad, other]);
    expect(outcomes.map((o) => (o.ok ? "ok" : o.problem))).toEqual(["InvalidSpec", "SchemaMismatch"]);
    expect(ch.statements.filter((s) => s.includes("_clickpipes_error"))).toEqual([]);
  });
});

describe("checkPipeTables", () => {
  const specs = (): PipeTableSpec[] => pipeTableSpecs(kafkaSpec({ columns: [{ name: "id", type: "UInt64" }] }), ["events"]);

  it("runs one read and no DDL when every table is there", async () => {
    const time = [{ name: "time", type: "DateTime64(3, 'UTC')" }];
    const ch = new FakeClickHouse(new Map([["events", [{ name: "id", type: "UInt64" }]], ["events_clickpipes_error", time], ["clickpipes_log", time], ["clickpipes_state", stateColumns]]));
    expect(await checkPipeTables(ch, specs())).toEqual([{ ok: true, database: "db", table: "events", columns: [{ name: "id", type: "UInt64" }] }]);
    expect(ch.statements).toHaveLength(1);
    expect(ch.statements[0]).toMatch(/^SELECT table, name, type, default_kind FROM system\.columns/);
  });

  it("says the operator creates what is missing and migrates an earlier state table", async () => {
    const earlierState = stateColumns.map((c) => (c.name === "position" ? { ...c, type: "SimpleAggregateFunction(max, Int64)" } : c));
    const ch = new FakeClickHouse(new Map([["clickpipes_state", earlierState]]));
    const outcomes = await checkPipeTables(ch, specs());
    expect(outcomes.map((o) => [o.table, o.ok ? "ok" : o.problem])).toEqual([
      ["events", "TableNotFound"],
      ["events_clickpipes_error", "TableNotFound"],
      ["clickpipes_log", "TableNotFound"],
      ["clickpipes_state", "SchemaMismatch"],
    ]);
    expect(outcomes[0]).toMatchObject({ message: "table db.events does not exist (or the user has no privilege on it): the operator (or `clickpipes run`) creates it at setup" });
    expect(ch.statements.every((s) => s.startsWith("SELECT"))).toBe(true);
  });
});
