import avro from "avsc";
import { describe, expect, it } from "vitest";
import { RecordError } from "../errors.js";
import { avroSchema, decodeAvroBody } from "./avro-confluent.js";
import { compileAvro, decimalText, isoMicros, isoMillis, typeHasBytes } from "./avro-types.js";
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

  it("calls a body that does not match its schema a DATA_PARSING_ERROR: too short, or with bytes left over", () => {
    const schema = avroSchema(JSON.stringify({ type: "record", name: "R", fields: [{ name: "s", type: "string" }] }), "test");
    const error = expect.objectContaining({ errorType: "DATA_PARSING_ERROR" }) as RecordError;
    expect(() => decodeAvroBody(schema, Buffer.from([0x20]))).toThrow(error);
    expect(() => decodeAvroBody(schema, Buffer.from([0, 0, 0, 0, 1, 0x02, 0x61, 0x00]), 5)).toThrow(error);
    expect({ ...decodeAvroBody(schema, Buffer.from([0, 0, 0, 0, 1, 0x02, 0x61]), 5) }).toEqual({ s: "a" });
  });

  it("writes timestamps as ISO 8601 text, before the epoch and across seconds alike", () => {
    expect(isoMillis(Date.UTC(2024, 4, 1, 10, 0, 0, 5))).toBe("2024-05-01T10:00:00.005Z");
    expect(isoMillis(Date.UTC(2024, 4, 1, 10, 0, 0, 250))).toBe("2024-05-01T10:00:00.250Z");
    expect(isoMillis(Date.UTC(2024, 4, 1, 10, 0, 1, 0))).toBe("2024-05-01T10:00:01.000Z");
    expect(isoMillis(-1500)).toBe("1969-12-31T23:59:58.500Z");
    expect(isoMicros(Date.UTC(2024, 4, 1, 10, 0, 0, 250) * 1000 + 123)).toBe("2024-05-01T10:00:00.250123Z");
    expect(isoMicros(-1)).toBe("1969-12-31T23:59:59.999999Z");
  });

  it("defines the named types of referenced schemas before the schema that names them", () => {
    const country = JSON.stringify({ type: "enum", name: "Country", namespace: "t", symbols: ["FR"] });
    const address = JSON.stringify({ type: "record", name: "Address", namespace: "t", fields: [{ name: "country", type: "t.Country" }] });
    const type = compileAvro({ type: "record", name: "C", namespace: "t", fields: [{ name: "home", type: "t.Address" }] }, [country, address]);
    expect(type.fromBuffer(Buffer.from([0])) as unknown).toEqual(expect.objectContaining({ home: expect.objectContaining({ country: "FR" }) as unknown }));
    expect(() => compileAvro({ type: "record", name: "C", fields: [{ name: "home", type: "t.Address" }] })).toThrow(/t\.Address/);
  });

  it("copies decoded records to turn Buffers into text only when bytes or fixed remain after logical types", () => {
    const decimal = { type: "bytes", logicalType: "decimal", precision: 4, scale: 2 };
    expect(typeHasBytes(compileAvro({ type: "record", name: "A", fields: [{ name: "d", type: decimal }] }))).toBe(false);
    expect(typeHasBytes(compileAvro({ type: "record", name: "B", fields: [{ name: "m", type: ["null", { type: "map", values: { type: "fixed", name: "F", size: 2 } }] }] }))).toBe(true);
    expect(typeHasBytes(compileAvro({ type: "record", name: "N", fields: [{ name: "next", type: ["null", "N"] }, { name: "l", type: { type: "array", items: "bytes" } }] }))).toBe(true);
    expect(decodeAvroBody(avroSchema(JSON.stringify({ type: "record", name: "R", fields: [{ name: "b", type: "bytes" }] }), "t"), Buffer.from([0x04, 0x68, 0x69]))).toEqual({ b: "hi" });
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
  it("leaves records JSON when the source passes no format options (object storage converts its CSV itself)", async () => {
    const decoding = await createDecoding({ format: "CSV" }, { columns: ["a"], retry: {} });
    expect(decoding.passthrough).toBe(true);
    expect(decoding.decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect((await createDecoding({ format: "CSV", options: {} }, { columns: ["a"], retry: {} })).decode(Buffer.from("7"))).toEqual({ a: "7" });
  });
});
