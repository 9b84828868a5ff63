import { describe, expect, it } from "vitest";
import { compileGlob } from "./glob.js";

describe("compileGlob", () => {
  it("lists from the literal head and matches *, ?, ** and {a,b} as ClickHouse does", () => {
    const g = compileGlob("logs/2024-*/**/*.{json,csv}.gz");
    expect(g.prefix).toBe("logs/2024-");
    expect(g.matches("logs/2024-01/a/b/x.json.gz")).toBe(true);
    expect(g.matches("logs/2024-01/x.csv.gz")).toBe(true);
    expect(g.matches("logs/2024-01/x.tsv.gz")).toBe(false);
    expect(g.matches("logs/2023-01/x.json.gz")).toBe(false);
    const one = compileGlob("d/?.json");
    expect([one.matches("d/1.json"), one.matches("d/12.json")]).toEqual([true, false]);
    // `*` stays inside one folder.
    expect(compileGlob("d/*.json").matches("d/e/f.json")).toBe(false);
  });

  it("expands {1..3} ranges", () => {
    const g = compileGlob("f{1..3}.json");
    expect([g.matches("f2.json"), g.matches("f5.json")]).toEqual([true, false]);
  });

  it("matches a key without globs exactly", () => {
    const g = compileGlob("a/b.json");
    expect(g.prefix).toBe("a/b.json");
    expect([g.matches("a/b.json"), g.matches("a/b.json.gz")]).toEqual([true, false]);
  });
});
