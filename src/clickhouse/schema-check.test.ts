import { describe, expect, it } from "vitest";
import { checkExistingTable, describeMismatches } from "./schema-check.js";

const actual = [
  { name: "id", type: "UInt64", defaultKind: "" },
  { name: "ts", type: "DateTime64(3, 'UTC')", defaultKind: "" },
  { name: "tags", type: "Array(LowCardinality(String))", defaultKind: "" },
  { name: "day", type: "Date", defaultKind: "MATERIALIZED" },
];

describe("checkExistingTable", () => {
  it("accepts a table whose types differ only in spelling", () => {
    expect(checkExistingTable([{ name: "id", type: "UInt64" }, { name: "ts", type: "DateTime64(3,'UTC')" }, { name: "tags", type: "Array( LowCardinality( String ) )" }], actual)).toEqual([]);
  });

  it("accepts mapping targets that name a column without a type", () => {
    expect(checkExistingTable([{ name: "id" }, { name: "tags" }], actual)).toEqual([]);
  });

  it("names each missing column and each type mismatch", () => {
    const mismatches = checkExistingTable(
      [
        { name: "id", type: "Int64" },
        { name: "price", type: "Decimal(10,2)" },
        { name: "ts", type: "DateTime64(6, 'UTC')" },
        { name: "other" },
        { name: "day", type: "Date" },
      ],
      actual,
    );
    expect(mismatches.map((m) => m.message)).toEqual([
      'column "id" has type UInt64 in the table, but the pipe expects Int64',
      'column "price" (Decimal(10,2)) does not exist in the table',
      "column \"ts\" has type DateTime64(3, 'UTC') in the table, but the pipe expects DateTime64(6, 'UTC')",
      'column "other" does not exist in the table',
      'column "day" is MATERIALIZED and cannot be written',
    ]);
    expect(mismatches[0]).toMatchObject({ kind: "type", column: "id", expected: "Int64", actual: "UInt64" });
    expect(describeMismatches("default.events", mismatches.slice(0, 2))).toBe(
      'table default.events does not match the pipe: column "id" has type UInt64 in the table, but the pipe expects Int64; column "price" (Decimal(10,2)) does not exist in the table',
    );
  });

  it("compares types it cannot parse by their text", () => {
    expect(checkExistingTable([{ name: "g", type: "AggregateFunction(uniq, String)" }], [{ name: "g", type: "AggregateFunction(uniq,String)" }])).toEqual([]);
  });
});
