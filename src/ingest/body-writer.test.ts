import { describe, expect, it } from "vitest";
import { BodyWriter, spareChunks } from "./body-writer.js";

describe("BodyWriter", () => {
  it("keeps bytes in order across chunks and returns views of what it copied", () => {
    const w = new BodyWriter();
    const big = Buffer.alloc((1 << 20) - 3, 0x61);
    const first = w.write(Buffer.from("{}\n"));
    w.write(big);
    const text = w.writeString('{"é":1}\n');
    const huge = w.write(Buffer.alloc(3 << 20, 0x62));
    expect(first.toString()).toBe("{}\n");
    expect(text.toString()).toBe('{"é":1}\n');
    expect(huge.length).toBe(3 << 20);
    const body = Buffer.concat(w.finish());
    expect(body.length).toBe(w.length);
    expect(body.subarray(0, 3).toString()).toBe("{}\n");
    expect(body.subarray(3 + big.length, 3 + big.length + text.length).toString()).toBe('{"é":1}\n');
  });
});

describe("BodyWriter chunk reuse", () => {
  it("gives a released body's chunks to the next body, and refuses to grow after release", () => {
    const first = new BodyWriter();
    first.write(Buffer.alloc(3 << 18, 0x61));
    first.write(Buffer.alloc(3 << 18, 0x61)); // 0.75 MiB twice: two pooled chunks
    const before = spareChunks();
    first.release();
    expect(spareChunks()).toBe(before + 2);
    const next = new BodyWriter();
    expect(spareChunks()).toBe(before + 1);
    const start = next.copyLine(Buffer.from('{"a":1}'));
    expect(next.chunk.subarray(start, start + 8).toString()).toBe('{"a":1}\n');
    expect(Buffer.concat(next.finish()).toString()).toBe('{"a":1}\n');
    next.release();
    next.release();
    expect(spareChunks()).toBe(before + 2);
    expect(() => next.write(Buffer.alloc(2 << 20))).toThrow(/after release/);
  });
});

describe("BodyWriter.writeStringLine", () => {
  it("writes a line with its newline, measuring multi-byte text only near the end of a chunk", () => {
    const w = new BodyWriter();
    w.write(Buffer.alloc((1 << 20) - 10, 0x61));
    const near = w.writeStringLine('{"é":"ü€"}'); // 15 bytes: does not fit in the 10 left
    const after = w.writeStringLine('{"a":1}');
    expect(near.toString()).toBe('{"é":"ü€"}\n');
    expect(after.toString()).toBe('{"a":1}\n');
    const body = Buffer.concat(w.finish());
    expect(body.length).toBe(w.length);
    expect(body.subarray(body.length - near.length - after.length).toString()).toBe('{"é":"ü€"}\n{"a":1}\n');
    w.release();
  });
});
