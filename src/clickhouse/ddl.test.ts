import { describe, expect, it } from "vitest";
import { checkpointsSql, createTableSql, DdlError, errorTableSql, logTableSql, stateMigrationSql, stateTableSql, stateTotalsSql, type ManagedTableSpec } from "./ddl.js";

const base: ManagedTableSpec = {
  database: "analytics",
  table: "events",
  columns: [
    { name: "id", type: "UInt64" },
    { name: "ts", type: "DateTime64(3,'UTC')" },
    { name: "amount", type: "Decimal(10,2)" },
  ],
};

function spec(tableDefinition: ManagedTableSpec["tableDefinition"]): ManagedTableSpec {
  return { ...base, tableDefinition };
}

function ddlError(s: ManagedTableSpec): string {
  try {
    createTableSql(s);
  } catch (e) {
    if (e instanceof DdlError) return e.message;
    throw e;
  }
  throw new Error("accepted");
}

describe("createTableSql", () => {
  it("creates a MergeTree ordered by tuple() when no table definition is given", () => {
    expect(createTableSql(base)).toBe(
      [
        "CREATE TABLE IF NOT EXISTS `analytics`.`events`",
        "(\n  `id` UInt64,\n  `ts` DateTime64(3, 'UTC'),\n  `amount` Decimal(10, 2)\n)",
        "ENGINE = MergeTree",
        "ORDER BY tuple()",
      ].join("\n"),
    );
  });

  it("writes the sorting key, partition and primary key", () => {
    const sql = createTableSql(spec({ engine: { type: "MergeTree" }, sortingKey: ["id", "ts"], partitionBy: "toYYYYMM(ts)", primaryKey: "id" }));
    expect(sql).toContain("ENGINE = MergeTree\nPARTITION BY toYYYYMM(ts)\nPRIMARY KEY id\nORDER BY (`id`, `ts`)");
    expect(createTableSql(spec({ engine: { type: "MergeTree" }, sortingKey: ["id"] }))).toContain("ORDER BY `id`");
  });

  it("writes each engine with its parameters", () => {
    expect(createTableSql(spec({ engine: { type: "ReplacingMergeTree", versionColumnId: "ts" }, sortingKey: ["id"] }))).toContain("ENGINE = ReplacingMergeTree(`ts`)\nORDER BY `id`");
    expect(createTableSql(spec({ engine: { type: "ReplacingMergeTree" }, sortingKey: ["id"] }))).toContain("ENGINE = ReplacingMergeTree\n");
    expect(createTableSql(spec({ engine: { type: "SummingMergeTree", columnIds: ["amount"] }, sortingKey: ["id"] }))).toContain("ENGINE = SummingMergeTree((`amount`))");
    expect(createTableSql(spec({ engine: { type: "Null" }, sortingKey: ["id"] }))).toMatch(/ENGINE = Null$/);
  });

  it("writes ReplacingMergeTree's version and is_deleted parameters, as CDC tables need them", () => {
    const cdc: ManagedTableSpec = {
      database: "db",
      table: "orders",
      columns: [
        { name: "id", type: "Int64" },
        { name: "_peerdb_version", type: "Int64" },
        { name: "_peerdb_is_deleted", type: "UInt8" },
        { name: "_peerdb_synced_at", type: "DateTime64(9)" },
      ],
      tableDefinition: { engine: { type: "ReplacingMergeTree", versionColumnId: "_peerdb_version", isDeletedColumnId: "_peerdb_is_deleted" }, sortingKey: ["id"] },
    };
    expect(createTableSql(cdc)).toContain("ENGINE = ReplacingMergeTree(`_peerdb_version`, `_peerdb_is_deleted`)\nORDER BY `id`");
  });

  it("refuses an is_deleted column without a version column, absent, or not UInt8", () => {
    expect(ddlError(spec({ engine: { type: "ReplacingMergeTree", isDeletedColumnId: "id" } }))).toBe("tableDefinition.engine.isDeletedColumnId: needs versionColumnId as well; set both or neither");
    expect(ddlError(spec({ engine: { type: "ReplacingMergeTree", versionColumnId: "ts", isDeletedColumnId: "gone" } }))).toContain('tableDefinition.engine.isDeletedColumnId: "gone" is not a column');
    expect(ddlError(spec({ engine: { type: "ReplacingMergeTree", versionColumnId: "ts", isDeletedColumnId: "id" } }))).toBe('tableDefinition.engine.isDeletedColumnId: column "id" is UInt64; the is_deleted column must be UInt8');
  });

  it("quotes identifiers that need it", () => {
    const sql = createTableSql({ database: "db", table: "t", columns: [{ name: "we`ird col", type: "String" }], tableDefinition: { engine: { type: "MergeTree" }, sortingKey: ["we`ird col"] } });
    expect(sql).toContain("`we\\`ird col` String");
    expect(sql).toContain("ORDER BY `we\\`ird col`");
  });

  it("allows a Nullable sorting key column explicitly", () => {
    const sql = createTableSql({ database: "db", table: "t", columns: [{ name: "k", type: "Nullable(String)" }], tableDefinition: { engine: { type: "MergeTree" }, sortingKey: ["k"] } });
    expect(sql).toMatch(/ORDER BY `k`\nSETTINGS allow_nullable_key = 1$/);
  });

  it("names what is wrong in a spec that cannot become a table", () => {
    expect(ddlError(spec({ engine: { type: "MergeTree" }, sortingKey: ["nope"] }))).toBe('tableDefinition.sortingKey: "nope" is not a column; columns: id, ts, amount');
    expect(ddlError(spec({ engine: { type: "ReplacingMergeTree", versionColumnId: "v" } }))).toContain('tableDefinition.engine.versionColumnId: "v" is not a column');
    expect(ddlError(spec({ engine: { type: "SummingMergeTree", columnIds: ["x", "y"] } }))).toContain('"x", "y" are not columns');
    expect(ddlError({ ...base, columns: [{ name: "a", type: "Strin" }] })).toContain('columns: column "a": invalid ClickHouse type "Strin"');
    expect(ddlError({ ...base, columns: [] })).toBe("columns: a managed table needs at least one column");
    expect(ddlError({ ...base, table: undefined })).toBe("table: required for a managed table");
    expect(ddlError({ ...base, columns: [{ name: "a", type: "String" }, { name: "a", type: "UInt8" }] })).toBe('columns: "a" is listed twice');
  });

  it("refuses key expressions that could end the statement early", () => {
    expect(ddlError(spec({ engine: { type: "MergeTree" }, partitionBy: "toYYYYMM(ts)); DROP TABLE x" }))).toContain('contains ";"');
    expect(ddlError(spec({ engine: { type: "MergeTree" }, partitionBy: "toYYYYMM(ts)) SETTINGS x=1 --" }))).toContain('contains "--"');
    expect(ddlError(spec({ engine: { type: "MergeTree" }, partitionBy: "toYYYYMM(ts" }))).toContain("unbalanced parentheses");
    expect(ddlError(spec({ engine: { type: "MergeTree" }, primaryKey: "id'" }))).toContain(`contains "'"`);
    expect(createTableSql(spec({ engine: { type: "MergeTree" }, partitionBy: "formatDateTime(ts, '%Y;%m')" }))).toContain("PARTITION BY formatDateTime(ts, '%Y;%m')");
  });
});

describe("bookkeeping tables", () => {
  it("creates the error table beside the destination, kept 7 days", () => {
    const sql = errorTableSql("analytics", "events");
    expect(sql).toMatch(/^CREATE TABLE IF NOT EXISTS `analytics`\.`events_clickpipes_error`/);
    for (const col of ["time DateTime64(3, 'UTC')", "pipe String", "error_type LowCardinality(String)", "message String", "raw_message String", "source_position String"]) {
      expect(sql).toContain(col);
    }
    expect(sql).toContain("TTL toDateTime(time) + INTERVAL 7 DAY");
  });

  it("creates clickpipes_log kept 30 days and the clickpipes_state aggregate table", () => {
    expect(logTableSql("db")).toMatch(/^CREATE TABLE IF NOT EXISTS `db`\.`clickpipes_log`[\s\S]*level LowCardinality\(String\)[\s\S]*INTERVAL 30 DAY$/);
    const state = stateTableSql("db");
    expect(state).toContain("ENGINE = AggregatingMergeTree\nORDER BY (pipe, source_position)");
    expect(state).toContain("last_insert_time SimpleAggregateFunction(max, DateTime64(3, 'UTC'))");
    expect(state).toContain("position SimpleAggregateFunction(anyLast, String)");
    expect(stateTotalsSql("db")).toContain("FROM `db`.`clickpipes_state`\nGROUP BY pipe");
  });
});

describe("clickpipes_state migration and reads", () => {
  // As system.columns of a 26.x server lists an earlier release's state table.
  const earlier = [
    { name: "pipe", type: "String" },
    { name: "source_position", type: "String" },
    { name: "rows", type: "SimpleAggregateFunction(sum, UInt64)" },
    { name: "bytes", type: "SimpleAggregateFunction(sum, UInt64)" },
    { name: "record_errors", type: "SimpleAggregateFunction(sum, UInt64)" },
    { name: "batches", type: "SimpleAggregateFunction(sum, UInt64)" },
    { name: "position", type: "SimpleAggregateFunction(max, Int64)" },
    { name: "lag", type: "SimpleAggregateFunction(anyLast, Int64)" },
    { name: "last_insert_time", type: "SimpleAggregateFunction(max, DateTime64(3, 'UTC'))" },
  ];

  it("turns the Int64 position of an earlier release into an anyLast String in place", () => {
    expect(stateMigrationSql("db", earlier)).toEqual(["ALTER TABLE `db`.`clickpipes_state` MODIFY COLUMN position SimpleAggregateFunction(anyLast, String)"]);
  });

  it("leaves a current table alone, whatever the spacing of its types", () => {
    const current = earlier.map((c) => (c.name === "position" ? { ...c, type: "SimpleAggregateFunction(anyLast,String)" } : c));
    expect(stateMigrationSql("db", current)).toEqual([]);
  });

  it("adds a column an earlier table lacks, and never drops one", () => {
    const withoutLag = [...earlier.filter((c) => c.name !== "lag" && c.name !== "position"), { name: "extra", type: "String" }];
    expect(stateMigrationSql("db", withoutLag)).toEqual([
      "ALTER TABLE `db`.`clickpipes_state` ADD COLUMN IF NOT EXISTS position SimpleAggregateFunction(anyLast, String)",
      "ALTER TABLE `db`.`clickpipes_state` ADD COLUMN IF NOT EXISTS lag SimpleAggregateFunction(anyLast, Int64)",
    ]);
  });

  it("reads the latest position per stream of one pipe, through a query parameter", () => {
    expect(checkpointsSql("db")).toBe(
      "SELECT source_position AS stream, argMax(position, last_insert_time) AS position\nFROM `db`.`clickpipes_state`\nWHERE pipe = {pipe:String}\nGROUP BY source_position",
    );
  });
});
