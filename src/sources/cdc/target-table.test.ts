import { describe, expect, it } from "vitest";
import { changeRow, syncedAt } from "./rows.js";
import { targetTableOf, targetTableSql } from "./target-table.js";

const source = {
  schema: "public",
  name: "orders",
  primaryKey: ["id"],
  columns: [
    { name: "id", sourceType: "bigint", clickhouseType: "Int64", nullable: false },
    { name: "note", sourceType: "text", clickhouseType: "Nullable(String)", nullable: true },
    { name: "secret", sourceType: "text", clickhouseType: "Nullable(String)", nullable: true },
  ],
};

describe("CDC target tables", () => {
  it("is a ReplacingMergeTree on version and is_deleted, ordered by the primary key, without excluded columns", () => {
    const target = targetTableOf("db", { sourceSchemaName: "public", sourceTable: "orders", targetTable: "orders", excludedColumns: ["secret"] }, source);
    expect(target.columns.map((c) => `${c.name} ${c.type}`)).toEqual(["id Int64", "note Nullable(String)", "_peerdb_synced_at DateTime64(9)", "_peerdb_is_deleted UInt8", "_peerdb_version Int64"]);
    const sql = targetTableSql(target);
    expect(sql).toContain("ENGINE = ReplacingMergeTree(`_peerdb_version`, `_peerdb_is_deleted`)");
    expect(sql).toContain("ORDER BY `id`");
  });
  it("orders by sortingKeys when asked, and refuses a table without a key", () => {
    expect(targetTableOf("db", { sourceSchemaName: "public", sourceTable: "orders", targetTable: "o", useCustomSortingKey: true, sortingKeys: ["note", "id"] }, source).orderBy).toEqual(["note", "id"]);
    expect(() => targetTableOf("db", { sourceSchemaName: "public", sourceTable: "orders", targetTable: "o" }, { ...source, primaryKey: [] })).toThrow(/no primary key/);
  });
  it("makes a change row with the CDC columns", () => {
    const row = changeRow({ op: "delete", table: "o", values: { id: "7" }, version: 123n, timestamp: 0, stream: "s", position: "p" }, Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    expect(row).toEqual({ id: "7", _peerdb_synced_at: "2026-01-02 03:04:05.006000000", _peerdb_is_deleted: 1, _peerdb_version: "123" });
    expect(syncedAt(0)).toBe("1970-01-01 00:00:00.000000000");
  });
});
