import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from "kafkajs";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { StackContext } from "../stack/component.js";
import { cacheDir, repoRoot } from "../stack/env.js";
import { kafka as kafkaComponent } from "../stack/kafka.js";
import { isAlive, killProcess, readPid } from "../stack/process.js";

const env = inject("stackEnv");

function required(key: string): string {
  const value = env[key];
  if (value === undefined || value === "") throw new Error(`stack env has no ${key}: is the kafka component up?`);
  return value;
}

let topicSeq = 0;
function uniqueTopic(label: string): string {
  topicSeq += 1;
  return `stack-${label}-${process.pid}-${Date.now()}-${topicSeq}`;
}

function client(config: Omit<KafkaConfig, "clientId" | "logLevel">): Kafka {
  return new Kafka({ clientId: "kafka-stack-test", logLevel: logLevel.NOTHING, ...config });
}

/** createTopics first (no reliance on auto-creation), produce, consume in a group from the start. */
async function roundTrip(kafka: Kafka, label: string, count = 5): Promise<string[]> {
  const topic = uniqueTopic(label);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const values = Array.from({ length: count }, (_, i) => `${label}-${i}`);
  await produce(kafka, topic, values);
  return consume(kafka, topic, `${topic}-group`, count);
}

async function produce(kafka: Kafka, topic: string, values: readonly string[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: String(i), value })) });
  } finally {
    await producer.disconnect();
  }
}

async function consume(kafka: Kafka, topic: string, groupId: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  const received: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${received.length}/${count} messages from ${topic} in 60 s`)), 60_000);
      consumer
        .run({
          eachMessage: ({ message }) => {
            received.push(message.value?.toString() ?? "");
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

function ca(): string[] {
  return [readFileSync(required("KAFKA_CA_FILE"), "utf8")];
}

function sasl(mechanism: "plain" | "scram-sha-256" | "scram-sha-512"): SASLOptions {
  const prefix = { plain: "KAFKA_PLAIN", "scram-sha-256": "KAFKA_SCRAM256", "scram-sha-512": "KAFKA_SCRAM512" }[mechanism];
  return { mechanism, username: required(`${prefix}_USER`), password: required(`${prefix}_PASSWORD`) };
}

const expected = (label: string): string[] => Array.from({ length: 5 }, (_, i) => `${label}-${i}`);

describe("local Kafka broker: every listener kind round-trips with kafkajs", () => {
  it("reports the broker version the stack runs", () => {
    expect(required("KAFKA_VERSION")).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("PLAINTEXT", async () => {
    expect(await roundTrip(client({ brokers: [required("KAFKA_BROKERS")] }), "plaintext")).toEqual(expected("plaintext"));
  });

  it.each(["plain", "scram-sha-256", "scram-sha-512"] as const)("SASL_PLAINTEXT with %s", async (mechanism) => {
    const kafka = client({ brokers: [required("KAFKA_SASL_PLAINTEXT_BROKERS")], sasl: sasl(mechanism) });
    expect(await roundTrip(kafka, `sasl-${mechanism}`)).toEqual(expected(`sasl-${mechanism}`));
  });

  it("SSL, trusting only the generated CA", async () => {
    const kafka = client({ brokers: [required("KAFKA_SSL_BROKERS")], ssl: { ca: ca() } });
    expect(await roundTrip(kafka, "ssl")).toEqual(expected("ssl"));
  });

  it("SASL_SSL with SCRAM-SHA-512 over TLS, trusting only the generated CA", async () => {
    const kafka = client({ brokers: [required("KAFKA_SASL_SSL_BROKERS")], ssl: { ca: ca() }, sasl: sasl("scram-sha-512") });
    expect(await roundTrip(kafka, "sasl-ssl-scram512")).toEqual(expected("sasl-ssl-scram512"));
  });

  it("mTLS with the generated client certificate", async () => {
    const kafka = client({
      brokers: [required("KAFKA_MTLS_BROKERS")],
      ssl: { ca: ca(), cert: readFileSync(required("KAFKA_CLIENT_CERT_FILE"), "utf8"), key: readFileSync(required("KAFKA_CLIENT_KEY_FILE"), "utf8") },
    });
    expect(await roundTrip(kafka, "mtls")).toEqual(expected("mtls"));
  });

  it("mTLS refuses a client without a certificate", async () => {
    const admin = client({ brokers: [required("KAFKA_MTLS_BROKERS")], ssl: { ca: ca() }, connectionTimeout: 5000, retry: { retries: 0 } }).admin();
    await expect(admin.connect()).rejects.toThrow(/certificate|alert|ECONNRESET|socket|closed/i);
  });

  it("a wrong SCRAM-SHA-512 password fails with a SASL authentication error", async () => {
    const admin = client({
      brokers: [required("KAFKA_SASL_PLAINTEXT_BROKERS")],
      sasl: { mechanism: "scram-sha-512", username: required("KAFKA_SCRAM512_USER"), password: "not-the-password" },
      retry: { retries: 0 },
    }).admin();
    const error = await admin.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("KafkaJSSASLAuthenticationError");
    expect((error as Error).message).toMatch(/authentication failed.*invalid credentials/i);
  });

  it("a wrong PLAIN password over TLS fails with a SASL authentication error", async () => {
    const admin = client({
      brokers: [required("KAFKA_SASL_SSL_BROKERS")],
      ssl: { ca: ca() },
      sasl: { mechanism: "plain", username: required("KAFKA_PLAIN_USER"), password: "not-the-password" },
      retry: { retries: 0 },
    }).admin();
    await expect(admin.connect()).rejects.toMatchObject({ name: "KafkaJSSASLAuthenticationError" });
  });
});

/**
 * Restarts run on a private broker (own state dir and ports, same cached jars) so that
 * suites sharing the stack's broker in parallel never see this outage. It goes through the
 * component's stop/start with `previous` set to its last env, exactly as the stack's fault
 * helpers (stopComponent/startComponent/killComponent) drive the shared one.
 */
describe("local Kafka broker: restarts keep the address and the data", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "kafka-restart-"));
  const ctx = (previous: Record<string, string> | undefined): StackContext => ({
    root: repoRoot,
    cacheDir,
    stateDir,
    binDir: join(cacheDir, "bin"),
    env: {},
    previous,
    log: (m: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${m}\n`),
  });

  afterAll(async () => {
    await kafkaComponent.stop(ctx(undefined));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("a graceful stop/start and a kill -9/start keep every listener address and the committed data", async () => {
    await kafkaComponent.provision(ctx(undefined));
    const first = await kafkaComponent.start(ctx(undefined));
    const brokers = first.KAFKA_BROKERS ?? "";
    const topic = uniqueTopic("restart");
    const admin = client({ brokers: [brokers] }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    await admin.disconnect();
    await produce(client({ brokers: [brokers] }), topic, ["before-stop-0", "before-stop-1"]);

    await kafkaComponent.stop(ctx(first));
    expect(await kafkaComponent.healthy(ctx(first), first)).toBe(false);
    const second = await kafkaComponent.start(ctx(first));
    expect(second).toEqual(first);
    await produce(client({ brokers: [brokers] }), topic, ["after-restart"]);

    const pid = readPid(ctx(second), "kafka");
    await killProcess(ctx(second), "kafka");
    expect(isAlive(pid)).toBe(false);
    const third = await kafkaComponent.start(ctx(second));
    expect(third).toEqual(first);
    expect(await kafkaComponent.healthy(ctx(third), third)).toBe(true);

    const values = await consume(client({ brokers: [brokers] }), topic, `${topic}-group`, 3);
    expect(values).toEqual(["before-stop-0", "before-stop-1", "after-restart"]);
  });
});
