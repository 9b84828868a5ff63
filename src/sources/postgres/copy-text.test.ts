import { describe, expect, it } from "vitest";
import { decodeCopyLine, LineSplitter } from "./copy-text.js";
import { formatLsn, parseLsn } from "./lsn.js";

describe("COPY text format", () => {
  it("splits columns, reads \\N as NULL and unescapes", () => {
    expect(decodeCopyLine("1\t\\N\ta\\tb\\nc\\\\d\t\\x41\\101")).toEqual(["1", null, "a\tb\nc\\d", "AA"]);
  });
  it("joins lines split across chunks", () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from("a\tb\nc"))).toEqual(["a\tb"]);
    expect(s.push(Buffer.from("d\n"))).toEqual(["cd"]);
    expect(s.rest).toBe(0);
  });
});

describe("LSNs", () => {
  it("round-trips and orders", () => {
    expect(formatLsn(parseLsn("16/B374D848"))).toBe("16/B374D848");
    expect(parseLsn("1/0") > parseLsn("0/FFFFFFFF")).toBe(true);
  });
});
