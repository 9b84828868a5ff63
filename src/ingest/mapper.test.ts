import { describe, expect, it } from "vitest";
import { decodeJsonObject } from "./decoders/json.js";
import { RecordError } from "./errors.js";
import { compileMapper } from "./mapper.js";
import type { RawRecord } from "./source.js";

function record(value: string, extra: Partial<RawRecord> = {}): RawRecord {
  return {
    value: Buffer.from(value),
    key: Buffer.from("k1"),
    timestamp: Date.UTC(2024, 4, 1, 12, 0, 0, 123),
    stream: "events/2",
    position: "42",
    ...extra,
  };
}

describe("mapper", () => {
  it("maps dotted source paths and same-name columns, with coercion per column type", () => {
    const mapper = compileMapper(
      [
        { name: "id", type: "UInt64" },
        { name: "customer_name", type: "String" },
        { name: "amount", type: "Decimal(10, 2)" },
      ],
      [{ sourceField: "customer.name", destinationField: "customer_name" }],
    );
    const r = record('{"id": 7, "customer": {"name": "Ada"}, "amount": 12.5, "ignored": true}');
    expect(mapper.map(r, decodeJsonObject(r.value))).toEqual({ id: "7", customer_name: "Ada", amount: "12.5" });
    expect(mapper.passthrough).toBe(false);
  });

  it("prefers a literal dotted key over the nested path", () => {
    const mapper = compileMapper([{ name: "v", type: "String" }], [{ sourceField: "a.b", destinationField: "v" }]);
    const r = record('{"a.b": "literal", "a": {"b": "nested"}}');
    expect(mapper.map(r, decodeJsonObject(r.value))).toEqual({ v: "literal" });
  });

  it("fills the source's virtual columns unless a mapping names the column", () => {
    const virtuals = [
      { name: "_position", value: (r: RawRecord) => r.position },
      { name: "_stream", value: (r: RawRecord) => r.stream },
    ];
    const mapper = compileMapper(
      [
        { name: "_position", type: "String" },
        { name: "_stream", type: "String" },
      ],
      [{ sourceField: "s", destinationField: "_stream" }],
      virtuals,
    );
    const r = record('{"s":"from-the-record"}');
    expect(mapper.map(r, decodeJsonObject(r.value))).toEqual({ _position: "42", _stream: "from-the-record" });
    expect(mapper.virtualMembers(r)).toBe('"_position":"42",');
  });

  it("names the column, the expected type and the value when a record does not fit", () => {
    const mapper = compileMapper([{ name: "n", type: "UInt8" }], []);
    const r = record('{"n": 300}');
    let caught: unknown;
    try {
      mapper.map(r, decodeJsonObject(r.value));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RecordError);
    expect((caught as RecordError).errorType).toBe("TYPE_ERROR");
    expect((caught as RecordError).message).toMatch(/column "n".*UInt8.*300/);
  });

  it("rejects fieldMappings to columns the table does not have", () => {
    expect(() => compileMapper([{ name: "a", type: "String" }], [{ sourceField: "x", destinationField: "b" }])).toThrow(
      /not in the table: b/,
    );
  });

  it("passes records through only when every column reads the same from raw JSON", () => {
    expect(compileMapper([{ name: "s", type: "String" }, { name: "n", type: "Int64" }], []).passthrough).toBe(true);
    expect(compileMapper([{ name: "n", type: "UInt8" }], []).passthrough).toBe(false);
  });
});
