import type { RawRecord } from "../../ingest/source.js";
import type { VirtualColumn } from "../plugin.js";

/** What a Kafka record carries beside its bytes; shared by the records of one fetched batch where it can be. */
export interface KafkaMeta {
  readonly topic: string;
  readonly partition: number;
  readonly headers: readonly (readonly [string, string])[];
}

const NO_HEADERS: readonly (readonly [string, string])[] = Object.freeze([]);

function meta(record: RawRecord): KafkaMeta {
  return (record.meta as KafkaMeta | undefined) ?? { topic: "", partition: 0, headers: NO_HEADERS };
}

/** ClickPipes' Kafka virtual columns (../shared/reference), by their names. */
export const KAFKA_VIRTUAL_COLUMNS: readonly VirtualColumn[] = [
  { name: "_key", value: (r) => (r.key === null ? null : r.key.toString("utf8")) },
  { name: "_timestamp", value: (r, type) => (/DateTime/.test(type) ? new Date(r.timestamp).toISOString() : r.timestamp) },
  { name: "_partition", value: (r) => meta(r).partition },
  { name: "_offset", value: (r) => r.position },
  { name: "_topic", value: (r) => meta(r).topic },
  { name: "_header_keys", value: (r) => meta(r).headers.map(([k]) => k) },
  { name: "_header_values", value: (r) => meta(r).headers.map(([, v]) => v) },
  { name: "_raw_message", value: (r) => (r.value === null ? null : r.value.toString("utf8")) },
];
