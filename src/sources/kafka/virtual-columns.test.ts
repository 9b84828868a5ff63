import { describe, expect, it } from "vitest";
import { decodeJsonObject } from "../../ingest/decoders/json.js";
import { compileMapper } from "../../ingest/mapper.js";
import type { RawRecord } from "../../ingest/source.js";
import { KAFKA_VIRTUAL_COLUMNS, type KafkaMeta } from "./virtual-columns.js";

function record(value: string): RawRecord {
  const meta: KafkaMeta = {
    topic: "events",
    partition: 2,
    headers: [
      ["h1", "v1"],
      ["h2", "v2"],
    ],
  };
  return { value: Buffer.from(value), key: Buffer.from("k1"), timestamp: Date.UTC(2024, 4, 1, 12, 0, 0, 123), stream: "events/2", position: "42", meta };
}

describe("Kafka virtual columns", () => {
  it("fills every Kafka virtual column", () => {
    const mapper = compileMapper(
      [
        { name: "_key", type: "String" },
        { name: "_timestamp", type: "DateTime64(3)" },
        { name: "_partition", type: "Int32" },
        { name: "_offset", type: "Int64" },
        { name: "_topic", type: "String" },
        { name: "_header_keys", type: "Array(String)" },
        { name: "_header_values", type: "Array(String)" },
        { name: "_raw_message", type: "String" },
      ],
      [],
      KAFKA_VIRTUAL_COLUMNS,
    );
    const r = record('{"x":1}');
    const row = mapper.map(r, decodeJsonObject(r.value));
    expect(row).toMatchObject({
      _key: "k1",
      _partition: 2,
      _offset: "42",
      _topic: "events",
      _header_keys: ["h1", "h2"],
      _header_values: ["v1", "v2"],
      _raw_message: '{"x":1}',
    });
    expect(row._timestamp).toBe("1714564800.123");
    expect(mapper.passthrough).toBe(true);
    expect(mapper.virtualMembers(r)).toContain('"_offset":"42"');
  });

});
