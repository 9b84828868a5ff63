import { describe, expect, it } from "vitest";
import { BodyWriter } from "./body-writer.js";

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
