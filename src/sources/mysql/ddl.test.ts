import { describe, expect, it } from "vitest";
import { columnFromDefinition, parseAlterTable, splitClauses } from "./ddl.js";

describe("parseAlterTable", () => {
  it("reads ADD COLUMN with its type, database and backquotes", () => {
    expect(parseAlterTable("ALTER TABLE `shop`.`orders` ADD COLUMN `note` VARCHAR(20) NOT NULL DEFAULT 'a,b'")).toEqual({
      database: "shop",
      table: "orders",
      changes: [{ kind: "add", column: { name: "note", dataType: "varchar", columnType: "varchar(20)", nullable: false } }],
    });
  });

  it("reads several clauses, DROP, IF [NOT] EXISTS and unsigned/decimal/datetime types", () => {
    const alter = parseAlterTable("alter table t add extra int unsigned, drop column if exists old, add column if not exists d decimal(12, 4), add ts datetime(6) null, add index i (extra)");
    expect(alter?.table).toBe("t");
    expect(alter?.database).toBeUndefined();
    expect(alter?.changes).toEqual([
      { kind: "add", column: { name: "extra", dataType: "int", columnType: "int unsigned", nullable: true } },
      { kind: "drop", name: "old" },
      { kind: "add", column: { name: "d", dataType: "decimal", columnType: "decimal(12, 4)", nullable: true, precision: 12, scale: 4 } },
      { kind: "add", column: { name: "ts", dataType: "datetime", columnType: "datetime(6)", nullable: true, fsp: 6 } },
      { kind: "other", clause: "add index i (extra)" },
    ]);
  });

  it("expands ADD COLUMN (a ..., b ...) and ignores statements that are not ALTER TABLE", () => {
    expect(parseAlterTable("ALTER TABLE t ADD COLUMN (a INT, b TEXT)")?.changes.map((c) => (c.kind === "add" ? c.column.name : c.kind))).toEqual(["a", "b"]);
    expect(parseAlterTable("CREATE TABLE t (a INT)")).toBeUndefined();
    expect(parseAlterTable("ALTER TABLE t MODIFY a BIGINT")?.changes).toEqual([{ kind: "other", clause: "MODIFY a BIGINT" }]);
  });

  it("splits only at top-level commas", () => {
    expect(splitClauses("add a decimal(10,2), add b enum('x,y','z')")).toEqual(["add a decimal(10,2)", "add b enum('x,y','z')"]);
    expect(columnFromDefinition("k", "BIGINT PRIMARY KEY").nullable).toBe(false);
  });
});
