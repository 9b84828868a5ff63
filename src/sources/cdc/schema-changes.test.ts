import { describe, expect, it } from "vitest";
import { alterSql, planSchemaChange } from "./schema-changes.js";

const col = (name: string, sourceType = "integer", clickhouseType = "Int32"): { name: string; sourceType: string; clickhouseType: string; nullable: boolean } => ({ name, sourceType, clickhouseType, nullable: true });

describe("schema change decisions", () => {
  it("adds a new column as Nullable, after its predecessor", () => {
    expect(planSchemaChange("t", [col("id")], [col("id"), col("b", "text", "String")], ["id"])).toEqual({ alters: [{ kind: "add", column: "b", type: "Nullable(String)", after: "id" }], problems: [] });
  });
  it("drops a dropped column and renames a column gone and replaced at the same place with the same type", () => {
    expect(planSchemaChange("t", [col("id"), col("a", "text")], [col("id")], ["id"]).alters).toEqual([{ kind: "drop", column: "a" }]);
    expect(planSchemaChange("t", [col("id"), col("b")], [col("id"), col("c")], ["id"]).alters).toEqual([{ kind: "rename", from: "b", to: "c" }]);
  });
  it("reports a type change and a sorting-key change instead of applying them", () => {
    const plan = planSchemaChange("t", [col("id"), col("a")], [col("id"), col("a", "bigint", "Int64")], ["id"]);
    expect(plan.alters).toEqual([]);
    expect(plan.problems[0]).toMatch(/t\.a changed type from integer to bigint.*resync/);
    expect(planSchemaChange("t", [col("id"), col("a")], [col("a")], ["id"]).problems[0]).toMatch(/sorting key/);
  });
  it("writes idempotent ALTERs", () => {
    expect(alterSql("db", "t", { kind: "add", column: "b", type: "Nullable(Int32)" })).toBe("ALTER TABLE `db`.`t` ADD COLUMN IF NOT EXISTS `b` Nullable(Int32)");
    expect(alterSql("db", "t", { kind: "drop", column: "b" })).toBe("ALTER TABLE `db`.`t` DROP COLUMN IF EXISTS `b`");
    expect(alterSql("db", "t", { kind: "rename", from: "b", to: "c" })).toBe("ALTER TABLE `db`.`t` RENAME COLUMN IF EXISTS `b` TO `c`");
  });
});
