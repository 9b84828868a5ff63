import { describe, expect, it } from "vitest";
import { parseQueryTree } from "./query-tree.js";
import { statementNeeds } from "./requirements.js";
import { tokenize } from "./sql.js";

const TREE = `QUERY id: 0
  PROJECTION
    LIST id: 1, nodes: 1
      COLUMN id: 2, column_name: pipe, result_type: String, source_id: 3
  JOIN TREE
    TABLE_FUNCTION id: 3, alias: __table1, table_function_name: merge
      ARGUMENTS
        LIST id: 4, nodes: 2
          CONSTANT id: 5, constant_value: 'db', constant_value_type: String
          CONSTANT id: 6, constant_value: '_clickpipes_error$', constant_value_type: String
  WHERE
    QUERY id: 9, is_subquery: 1
      PROJECTION
        LIST id: 10, nodes: 1
          COLUMN id: 11, column_name: n, result_type: UInt32, source_id: 12
      JOIN TREE
        TABLE id: 12, alias: __table2, table_name: db.\`odd name\``;

describe("parseQueryTree", () => {
  it("finds tables with the columns read and table functions with their arguments", () => {
    const reads = parseQueryTree(TREE);
    expect(reads.tables).toEqual([{ database: "db", table: "odd name", columns: ["n"] }]);
    expect(reads.functions).toEqual([{ name: "merge", args: ["db", "_clickpipes_error$"] }]);
  });
});

describe("statementNeeds", () => {
  const needs = (sql: string): string[] => statementNeeds(tokenize(sql), sql, "cur").requirements.map((r) => `${r.privilege} ${r.database ?? "*"}.${r.table ?? "*"}`);
  it("names what a server's interpreters require", () => {
    expect(needs("EXCHANGE TABLES a AND db.b")).toEqual(["SELECT cur.a", "DROP TABLE cur.a", "CREATE TABLE db.b", "INSERT db.b", "CREATE TABLE cur.a", "INSERT cur.a", "SELECT db.b", "DROP TABLE db.b"]);
    expect(needs("CREATE OR REPLACE TABLE t (a UInt8) ENGINE = Kafka")).toEqual(["DROP TABLE cur.t", "CREATE TABLE cur.t", "KAFKA *.*"]);
    expect(needs("ALTER TABLE db.t ADD COLUMN IF NOT EXISTS c String, MODIFY TTL d")).toEqual(["ALTER ADD COLUMN db.t", "ALTER TTL db.t"]);
    expect(needs("TRUNCATE TABLE IF EXISTS db.t")).toEqual(["TRUNCATE db.t"]);
    expect(needs("SYSTEM STOP MERGES db.t")).toEqual(["SYSTEM MERGES db.t"]);
    expect(statementNeeds(tokenize("INSERT INTO t SELECT * FROM s"), "INSERT INTO t SELECT * FROM s", "cur").selects).toEqual(["SELECT * FROM s"]);
  });
});
