import { describe, expect, it } from "vitest";
import { RecordError } from "../errors.js";
import { decodeJsonObject, looksLikeJsonObject } from "./json.js";

describe("JSONEachRow decoder", () => {
  it("decodes one object per message", () => {
    expect(decodeJsonObject(Buffer.from('{"a":1,"b":{"c":"x"}}'))).toEqual({ a: 1, b: { c: "x" } });
  });

  it("rejects malformed JSON, non-objects and empty messages with a DECODE_ERROR", () => {
    for (const bad of ['{"a":', "[1,2]", "42", "null", ""]) {
      let caught: unknown;
      try {
        decodeJsonObject(Buffer.from(bad));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RecordError);
      expect((caught as RecordError).errorType).toBe("DECODE_ERROR");
    }
    expect(() => decodeJsonObject(null)).toThrow(/empty message/);
  });

  it("spots messages that cannot pass through as one object", () => {
    expect(looksLikeJsonObject(Buffer.from(' {"a":1}\n'))).toBe(true);
    expect(looksLikeJsonObject(Buffer.from("[1]"))).toBe(false);
    expect(looksLikeJsonObject(Buffer.from("{"))).toBe(false);
    expect(looksLikeJsonObject(Buffer.from("   "))).toBe(false);
    expect(looksLikeJsonObject(null)).toBe(false);
  });
});
