import { describe, expect, it } from "vitest";
import type { RawRecord } from "../../ingest/source.js";
import { KINESIS_VIRTUAL_COLUMNS } from "./virtual-columns.js";

const record: RawRecord = {
  value: Buffer.from('{"a":1}'),
  key: Buffer.from("user-7"),
  timestamp: Date.UTC(2024, 4, 1, 12, 0, 0, 123),
  stream: "events/shardId-000000000002",
  position: "49590338271490256608559692538361571095921575989136588898",
  meta: { streamName: "events", shardId: "shardId-000000000002" },
};

function column(name: string, type = "String"): unknown {
  const c = KINESIS_VIRTUAL_COLUMNS.find((v) => v.name === name);
  if (c === undefined) throw new Error(`no column ${name}`);
  return c.value(record, type);
}

describe("Kinesis virtual columns", () => {
  it("fills ClickPipes' names from the record", () => {
    expect(KINESIS_VIRTUAL_COLUMNS.map((c) => c.name)).toEqual(["_key", "_timestamp", "_stream", "_sequence_number", "_raw_message", "_shard_id"]);
    expect(column("_key")).toBe("user-7");
    expect(column("_timestamp", "DateTime64(3)")).toBe("2024-05-01T12:00:00.123Z");
    expect(column("_timestamp", "Int64")).toBe(record.timestamp);
    expect(column("_stream")).toBe("events");
    expect(column("_sequence_number")).toBe(record.position);
    expect(column("_raw_message")).toBe('{"a":1}');
    expect(column("_shard_id")).toBe("shardId-000000000002");
  });
});
