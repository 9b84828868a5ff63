import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { LineConverter, numberedLines } from "./lines.js";

describe("LineConverter", () => {
  it("uses a CSV header when every field names a column, keeps malformed lines raw", () => {
    const c = new LineConverter("CSV", ["id", "name"]);
    expect(c.convert('"name","id"')).toBeUndefined();
    expect(c.convert('"x",7')).toBe('{"name":"x","id":"7"}');
    expect(c.convert('"1405,"n1405')).toBe('"1405,"n1405');
  });

  it("keys header-less TSV lines by the destination's columns", () => {
    const c = new LineConverter("TabSeparated", ["id", "name"]);
    expect(c.convert("7\tx")).toBe('{"id":"7","name":"x"}');
  });
});

describe("numberedLines", () => {
  it("numbers the lines of a gzip file from 1", async () => {
    const out: [number, string][] = [];
    for await (const l of numberedLines(Readable.from([gzipSync("a\nb\n")]), "gzip", "k")) out.push(l);
    expect(out).toEqual([[1, "a"], [2, "b"]]);
  });

  it("refuses what Node cannot decompress, naming the file", async () => {
    const read = async (): Promise<void> => {
      for await (const l of numberedLines(Readable.from([Buffer.from("x")]), "xz", "d/f.json.xz")) void l;
    };
    await expect(read()).rejects.toThrow(/d\/f.json.xz: .*xz/);
  });
});
