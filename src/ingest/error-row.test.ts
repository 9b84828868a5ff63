import { describe, expect, it } from "vitest";
import { errorRowLine, jsonStringBytes, rawMessage } from "./error-row.js";

describe("error rows' raw bytes", () => {
  it("keeps text as text and bytes that are not UTF-8 as the bytes themselves", () => {
    expect(rawMessage(Buffer.from('{"a":"é"}'))).toBe('{"a":"é"}');
    expect(rawMessage(null)).toBe("");
    const binary = Buffer.from([0x00, 0xff, 0x80]);
    expect(rawMessage(binary)).toEqual(binary);
  });

  it("escapes only what JSON requires and leaves every other byte as it is", () => {
    const bytes = Buffer.from([0x61, 0x22, 0x5c, 0x00, 0x1f, 0x0a, 0xff, 0xc3, 0x7f]);
    expect(jsonStringBytes(bytes)).toEqual(Buffer.concat([Buffer.from('a\\"\\\\\\u0000\\u001f\\u000a'), Buffer.from([0xff, 0xc3, 0x7f])]));
    const plain = Buffer.from([0x61, 0xff]);
    expect(jsonStringBytes(plain)).toBe(plain);
  });

  it("writes a JSONEachRow line whose raw_message carries the bytes", () => {
    const row = { time: "t", pipe: "p", error_type: "E", message: 'say "x"', source_position: "t/0/1" };
    expect(errorRowLine({ ...row, raw_message: "text" }).toString()).toBe(`${JSON.stringify({ ...row, raw_message: "text" })}\n`);
    const line = errorRowLine({ ...row, raw_message: Buffer.from([0xff, 0x22]) });
    expect(line).toEqual(Buffer.concat([Buffer.from('{"time":"t","pipe":"p","error_type":"E","message":"say \\"x\\"","source_position":"t/0/1","raw_message":"'), Buffer.from([0xff]), Buffer.from('\\""}\n')]));
  });
});
