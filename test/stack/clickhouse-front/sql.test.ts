import { describe, expect, it } from "vitest";
import { FrontError } from "./errors.js";
import { insertTarget, parseStatement, setNames } from "./sql.js";

describe("parseStatement", () => {
  it("splits an INSERT's inline data after FORMAT name and one line break", () => {
    const sql = 'INSERT INTO db.t (a, b) FORMAT JSONEachRow\n{"a":1,"b":"x; y"}\n';
    const s = parseStatement(sql);
    expect(s.kind).toBe("insert");
    expect(s.sql).toBe("INSERT INTO db.t (a, b) FORMAT JSONEachRow");
    expect(sql.slice(s.dataOffset)).toBe('{"a":1,"b":"x; y"}\n');
    expect(insertTarget(s.tokens)).toEqual({ database: "db", table: "t" });
  });

  it("reads the output format and ignores FORMAT inside subqueries, strings and comments", () => {
    expect(parseStatement("SELECT 'FORMAT CSV' -- FORMAT TSV\nFROM (SELECT 1 FORMAT JSON) FORMAT JSONEachRow").format).toBe("JSONEachRow");
    expect(parseStatement("SELECT 1").format).toBeUndefined();
  });

  it("refuses multi-statements like the HTTP handler but accepts a trailing semicolon", () => {
    expect(() => parseStatement("SELECT 1; SELECT 2")).toThrow(FrontError);
    expect(parseStatement("SELECT ';' ;").kind).toBe("read");
    expect(() => parseStatement("  -- nothing\n")).toThrow(/Empty query/);
  });

  it("classifies access statements, SET and USE", () => {
    expect(parseStatement("CREATE USER IF NOT EXISTS u IDENTIFIED BY 'p'").kind).toBe("access");
    expect(parseStatement("CREATE OR REPLACE ROLE r").kind).toBe("access");
    expect(parseStatement("GRANT INSERT ON db.t TO u").kind).toBe("access");
    expect(parseStatement("CREATE TABLE t (a UInt8) ENGINE = Memory").kind).toBe("other");
    expect(parseStatement("USE db").kind).toBe("use");
    const set = parseStatement("SET max_threads = 2, `date_time_input_format` = 'best_effort'");
    expect(set.kind).toBe("set");
    expect(setNames(set.tokens)).toEqual(["max_threads", "date_time_input_format"]);
  });
});
