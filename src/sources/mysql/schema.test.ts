import { describe, expect, it } from "vitest";
import { columnFromDefinition } from "./ddl.js";
import { type TableSchema, applyColumnChanges, cdcSourceTable, mapColumns } from "./schema.js";

const schema: TableSchema = {
  database: "shop",
  table: "orders",
  targetTable: "orders",
  columns: mapColumns("shop.orders", [{ name: "id", dataType: "int", columnType: "int", nullable: false }, { name: "note", dataType: "varchar", columnType: "varchar(10)", nullable: true }], []),
  primaryKey: ["id"],
  excluded: ["secret"],
};

describe("applyColumnChanges", () => {
  it("adds and drops columns; a replayed ALTER changes nothing", () => {
    const { schema: after } = applyColumnChanges(schema, [{ kind: "add", column: columnFromDefinition("qty", "INT UNSIGNED") }, { kind: "drop", name: "note" }]);
    expect(after.columns.map((c) => [c.name, c.mapped.type])).toEqual([["id", "Int32"], ["qty", "Nullable(UInt32)"]]);
    expect(applyColumnChanges(after, [{ kind: "add", column: columnFromDefinition("qty", "INT") }, { kind: "drop", name: "gone" }]).schema.columns).toEqual(after.columns);
  });

  it("never adds an excluded column, and skips a type it cannot map", () => {
    const { schema: after, skipped } = applyColumnChanges(schema, [{ kind: "add", column: columnFromDefinition("secret", "TEXT") }, { kind: "add", column: columnFromDefinition("g", "SERIAL") }]);
    expect(after.columns.map((c) => c.name)).toEqual(["id", "note"]);
    expect(skipped).toEqual(["g (serial)"]);
  });

  it("describes the table in the shared CDC model", () => {
    expect(cdcSourceTable(schema)).toEqual({
      schema: "shop",
      name: "orders",
      primaryKey: ["id"],
      columns: [
        { name: "id", sourceType: "int", clickhouseType: "Int32", nullable: false },
        { name: "note", sourceType: "varchar(10)", clickhouseType: "Nullable(String)", nullable: true },
      ],
    });
  });

  it("names the table and column of a type it cannot map", () => {
    expect(() => mapColumns("shop.orders", [{ name: "g", dataType: "serial", columnType: "serial", nullable: false }], [])).toThrow(/shop\.orders\.g: column type serial/);
  });
});
