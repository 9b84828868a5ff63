/**
 * The peer of `npm run bench -- kafka`: ClickHouse's Kafka table engine and a materialized
 * view into a MergeTree table, as a self-hosted ClickHouse user would set it up.
 */
import { availableParallelism } from "node:os";

export interface EngineOptions {
  readonly db: string;
  readonly columns: readonly { name: string; type: string }[];
  readonly brokers: string;
  readonly topic: string;
  readonly group: string;
  readonly partitions: number;
}

/** The target table, the Kafka engine table (one consumer per partition, as many as cores) and the view. */
export function engineSql(o: EngineOptions): string[] {
  const cols = o.columns.map((c) => `${c.name} ${c.type}`).join(", ");
  const consumers = Math.max(1, Math.min(o.partitions, availableParallelism()));
  return [
    `CREATE TABLE ${o.db}.engine_rows (${cols}) ENGINE = MergeTree ORDER BY id`,
    `CREATE TABLE ${o.db}.engine_queue (${cols}) ENGINE = Kafka SETTINGS kafka_broker_list = '${o.brokers}', kafka_topic_list = '${o.topic}', ` +
      `kafka_group_name = '${o.group}', kafka_format = 'JSONEachRow', kafka_num_consumers = ${consumers}, kafka_thread_per_consumer = 1, ` +
      `date_time_input_format = 'best_effort', input_format_skip_unknown_fields = 1`,
    `CREATE MATERIALIZED VIEW ${o.db}.engine_mv TO ${o.db}.engine_rows AS SELECT * FROM ${o.db}.engine_queue`,
  ];
}

/** Stops the engine consuming (the view first, so no block is half-moved). */
export function engineDropSql(db: string): string[] {
  return [`DROP VIEW IF EXISTS ${db}.engine_mv`, `DROP TABLE IF EXISTS ${db}.engine_queue`];
}
