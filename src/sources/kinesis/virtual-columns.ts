import type { RawRecord } from "../../ingest/source.js";
import type { VirtualColumn } from "../plugin.js";

/** What a Kinesis record carries beside its bytes; one object shared by every record of a shard. */
export interface KinesisMeta {
  readonly streamName: string;
  readonly shardId: string;
}

function meta(record: RawRecord): KinesisMeta {
  return (record.meta as KinesisMeta | undefined) ?? { streamName: "", shardId: "" };
}

/** ClickPipes' Kinesis virtual columns (../shared/reference), plus `_shard_id`. */
export const KINESIS_VIRTUAL_COLUMNS: readonly VirtualColumn[] = [
  /** The partition key the producer gave. */
  { name: "_key", value: (r) => (r.key === null ? null : r.key.toString("utf8")) },
  /** ApproximateArrivalTimestamp, ms precision. */
  { name: "_timestamp", value: (r, type) => (/DateTime/.test(type) ? new Date(r.timestamp).toISOString() : r.timestamp) },
  { name: "_stream", value: (r) => meta(r).streamName },
  { name: "_sequence_number", value: (r) => r.position },
  { name: "_raw_message", value: (r) => (r.value === null ? null : r.value.toString("utf8")) },
  { name: "_shard_id", value: (r) => meta(r).shardId },
];
