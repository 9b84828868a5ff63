import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, createTopic, produce, startConsumer, stopConsumer, uniqueName, waitFor, writePipeFile } from "./ingest-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const db = uniqueName("auth");
const ca = (): string => readFileSync(env.KAFKA_CA_FILE as string, "utf8");

interface AuthCase {
  readonly name: string;
  readonly kafka: () => Record<string, unknown>;
  readonly secrets: () => Record<string, Record<string, string>>;
}

const cases: AuthCase[] = [
  { name: "plaintext", kafka: () => ({ brokers: env.KAFKA_BROKERS }), secrets: () => ({}) },
  {
    name: "sasl-plain",
    kafka: () => ({ brokers: env.KAFKA_SASL_PLAINTEXT_BROKERS, authentication: "PLAIN", credentialsSecretRef: { name: "kafka-creds" } }),
    secrets: () => ({ "kafka-creds": { username: env.KAFKA_PLAIN_USER!, password: env.KAFKA_PLAIN_PASSWORD! } }),
  },
  {
    name: "scram-256",
    kafka: () => ({ brokers: env.KAFKA_SASL_PLAINTEXT_BROKERS, authentication: "SCRAM-SHA-256", credentialsSecretRef: { name: "kafka-creds" } }),
    secrets: () => ({ "kafka-creds": { username: env.KAFKA_SCRAM256_USER!, password: env.KAFKA_SCRAM256_PASSWORD! } }),
  },
  {
    name: "scram-512-tls",
    kafka: () => ({
      brokers: env.KAFKA_SASL_SSL_BROKERS,
      authentication: "SCRAM-SHA-512",
      credentialsSecretRef: { name: "kafka-creds" },
      caCertificateSecretRef: { name: "kafka-ca" },
    }),
    secrets: () => ({ "kafka-creds": { username: env.KAFKA_SCRAM512_USER!, password: env.KAFKA_SCRAM512_PASSWORD! }, "kafka-ca": { "ca.crt": ca() } }),
  },
  {
    name: "ssl-ca",
    kafka: () => ({ brokers: env.KAFKA_SSL_BROKERS, caCertificateSecretRef: { name: "kafka-ca" } }),
    secrets: () => ({ "kafka-ca": { "ca.crt": ca() } }),
  },
  {
    name: "mtls",
    kafka: () => ({
      brokers: env.KAFKA_MTLS_BROKERS,
      authentication: "MUTUAL_TLS",
      caCertificateSecretRef: { name: "kafka-ca" },
      clientCertificateSecretRef: { name: "kafka-client" },
    }),
    secrets: () => ({
      "kafka-ca": { "ca.crt": ca() },
      "kafka-client": { "tls.crt": readFileSync(env.KAFKA_CLIENT_CERT_FILE as string, "utf8"), "tls.key": readFileSync(env.KAFKA_CLIENT_KEY_FILE as string, "utf8") },
    }),
  },
];

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe("Kafka authentication", () => {
  it.each(cases)("consumes through the $name listener", async (c) => {
    const topic = uniqueName(`auth-${c.name}`);
    const table = c.name.replaceAll("-", "_");
    await createTopic(env, topic, 1);
    await produce(env, topic, Array.from({ length: 100 }, (_, i) => ({ value: JSON.stringify({ id: i }) })), 1);
    const file = writePipeFile(env, {
      name: `auth-${c.name}`,
      database: db,
      table,
      kafka: { ...c.kafka(), topics: topic },
      columns: [{ name: "id", type: "UInt32" }],
      secrets: c.secrets(),
    });
    const consumer = startConsumer(file);
    try {
      await waitFor(`100 rows through ${c.name}`, async () => (await count(ch, `SELECT count() c FROM ${db}.${table}`)) === 100, 90_000, consumer);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
  });

  it("logs the broker's reason for wrong SCRAM credentials (and keeps retrying, the operator decides when to give up)", async () => {
    const topic = uniqueName("auth-wrong");
    await createTopic(env, topic, 1);
    const file = writePipeFile(env, {
      name: "auth-wrong",
      database: db,
      table: "wrong",
      kafka: { brokers: env.KAFKA_SASL_PLAINTEXT_BROKERS, topics: topic, authentication: "SCRAM-SHA-512", credentialsSecretRef: { name: "kafka-creds" } },
      columns: [{ name: "id", type: "UInt32" }],
      secrets: { "kafka-creds": { username: env.KAFKA_SCRAM512_USER!, password: "not-the-password" } },
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("an authentication failure in the log", () => Promise.resolve(/SASL SCRAM SHA512 authentication failed|Authentication failed/i.test(consumer.log())), 90_000, consumer);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
  });
});
