import avro from "avsc";
import { describe, expect, it } from "vitest";
import { RecordError } from "../errors.js";
import { avroSchema, decodeAvroBody } from "./avro-confluent.js";
import { decimalText } from "./avro-types.js";
import { DelimitedDecoder } from "./delimited.js";
import { createDecoding } from "./dispatch.js";
import { readMessageIndexes } from "./protobuf.js";
import { parseRegistryUrl } from "./registry-client.js";

describe("parseRegistryUrl", () => {
  it("reads the root, a pinned id, and a pinned subject with or without a version, as ClickPipes takes them", () => {
    expect(parseRegistryUrl("https://registry.example.com/")).toEqual({ base: "https://registry.example.com" });
    expect(parseRegistryUrl("https://registry.example.com/schemas/ids/1000")).toEqual({ base: "https://registry.example.com", pin: { id: 1000 } });
    expect(parseRegistryUrl("https://r.example.com/apis/ccompat/v7/subjects/events")).toEqual({ base: "https://r.example.com/apis/ccompat/v7", pin: { subject: "events", version: "latest" } });
    expect(parseRegistryUrl("https://r.example.com/subjects/a%2Fb/versions/4")).toEqual({ base: "https://r.example.com", pin: { subject: "a/b", version: "4" } });
  });
});

describe("Avro decoding", () => {
  it("keeps longs exact beyond 2^53 and turns decimals into exact text", () => {
    const big = avro.types.LongType.__with({
      fromBuffer: (b: Buffer) => b.readBigInt64LE(),
      toBuffer: (n: bigint) => {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(n);
        return b;
      },
      fromJSON: BigInt,
      toJSON: Number,
      isValid: (n: unknown) => typeof n === "bigint",
      compare: () => 0,
    });
    const schema = { type: "record", name: "R", fields: [{ name: "a", type: "long" }, { name: "b", type: "long" }] };
    const writer = avro.Type.forSchema(schema as avro.Schema, { registry: { long: big } });
    const decoded = decodeAvroBody(avroSchema(JSON.stringify(schema), "test"), writer.toBuffer({ a: 9223372036854775807n, b: -42n }));
    expect({ ...decoded }).toEqual({ a: "9223372036854775807", b: -42 });
    expect(decimalText(Buffer.from([0xfb, 0x2e]), 2)).toBe("-12.34");
    expect(decimalText(Buffer.from([0x05]), 3)).toBe("0.005");
  });

  it("calls a body that does not match its schema a DATA_PARSING_ERROR", () => {
    const schema = avroSchema(JSON.stringify({ type: "record", name: "R", fields: [{ name: "s", type: "string" }] }), "test");
    expect(() => decodeAvroBody(schema, Buffer.from([0x20]))).toThrow(expect.objectContaining({ errorType: "DATA_PARSING_ERROR" }) as RecordError);
  });
});

describe("Protobuf message indexes", () => {
  it("reads Confluent's zigzag count and indexes, and the single 0 byte for the first message", () => {
    expect(readMessageIndexes(Buffer.from([0, 0, 0, 0, 1, 0x00, 0xaa]))).toEqual({ indexes: [], offset: 6 });
    expect(readMessageIndexes(Buffer.from([0, 0, 0, 0, 1, 0x04, 0x02, 0x06, 0xaa]))).toEqual({ indexes: [1, 3], offset: 8 });
  });
});

describe("DelimitedDecoder", () => {
  it("reads CSV by position and TabSeparated by header, with NULLs and escapes", () => {
    const csv = new DelimitedDecoder({ format: "CSV", columns: ["a", "b", "c"] });
    expect(csv.decode(Buffer.from('1,"x, ""y""",\\N\n'))).toEqual({ a: "1", b: 'x, "y"', c: null });
    const tsv = new DelimitedDecoder({ format: "TabSeparatedWithNames", columns: [] });
    expect(tsv.decode(Buffer.from("b\ta\nx\\ty\t\\N"))).toEqual({ b: "x\ty", a: null });
    expect(() => csv.decode(Buffer.from("1,2\n3,4"))).toThrow(/2 line/);
  });
});

describe("createDecoding", () => {
  it("leaves records JSON when the source passes no format options (object storage converts its CSV itself)", () => {
    const decoding = createDecoding({ format: "CSV" }, { columns: ["a"], retry: {} });
    expect(decoding.passthrough).toBe(true);
    expect(decoding.decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(createDecoding({ format: "CSV", options: {} }, { columns: ["a"], retry: {} }).decode(Buffer.from("7"))).toEqual({ a: "7" });
  });
});
