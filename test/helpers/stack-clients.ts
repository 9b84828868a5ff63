import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";

/** Kafka and ClickHouse clients on the stack's env, shared by the integration and e2e suites. */
export type StackEnv = Record<string, string>;

export function kafka(env: StackEnv, config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: "clickpipes-test", brokers: [env.KAFKA_BROKERS ?? ""], logLevel: logLevel.NOTHING, retry: { retries: 10 }, ...config });
}

export async function createTopic(env: StackEnv, topic: string, partitions = 2): Promise<void> {
  const admin = kafka(env).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Admin client by default; a pipe's own user to test its grants. Failures are asserted by the tests, so the client's own error log is off. */
export function clickhouse(env: StackEnv, user = env.CLICKHOUSE_USER, password = env.CLICKHOUSE_PASSWORD): ClickHouseClient {
  return createClient({ url: env.CLICKHOUSE_URL, username: user, password, request_timeout: 120_000, log: { level: ClickHouseLogLevel.OFF } });
}

export async function queryRows<T>(ch: ClickHouseClient, query: string): Promise<T[]> {
  const result = await ch.query({ query, format: "JSONEachRow" });
  return result.json<T>();
}

/** The first column of the first row, as a number (whatever the column is called). */
export async function count(ch: ClickHouseClient, query: string): Promise<number> {
  const rows = await queryRows<Record<string, string | number>>(ch, query);
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}
