import type { KafkaTlsFiles } from "./kafka-tls.js";
import { storePassword } from "./kafka-tls.js";

/** Loopback ports of the broker's listeners. */
export interface KafkaPorts {
  readonly plaintext: number;
  readonly controller: number;
  readonly saslPlaintext: number;
  readonly ssl: number;
  readonly saslSsl: number;
  readonly mtls: number;
}

export interface KafkaUser {
  readonly name: string;
  readonly password: string;
}

/**
 * Fixed test users: SCRAM credentials live in the formatted metadata log, which survives
 * restarts, so they must not change between runs.
 */
export const kafkaUsers = {
  plain: { name: "plain-user", password: "plain-secret" },
  scram256: { name: "scram256-user", password: "scram256-secret" },
  scram512: { name: "scram512-user", password: "scram512-secret" },
} as const satisfies Record<string, KafkaUser>;

/** Env keys holding each listener's `host:port`; start() reads them back from ctx.previous. */
export const portEnvKeys: Record<keyof KafkaPorts, string> = {
  plaintext: "KAFKA_BROKERS",
  controller: "KAFKA_CONTROLLER",
  saslPlaintext: "KAFKA_SASL_PLAINTEXT_BROKERS",
  ssl: "KAFKA_SSL_BROKERS",
  saslSsl: "KAFKA_SASL_SSL_BROKERS",
  mtls: "KAFKA_MTLS_BROKERS",
};

/** Ports published last time, when every one of them is present and valid. */
export function previousPorts(previous: Readonly<Record<string, string>> | undefined): KafkaPorts | undefined {
  if (previous === undefined) return undefined;
  const ports: Partial<Record<keyof KafkaPorts, number>> = {};
  for (const [key, envKey] of Object.entries(portEnvKeys) as [keyof KafkaPorts, string][]) {
    const m = /^127\.0\.0\.1:(\d+)$/.exec(previous[envKey] ?? "");
    const port = Number(m?.[1]);
    if (!Number.isInteger(port) || port <= 0) return undefined;
    ports[key] = port;
  }
  return ports as KafkaPorts;
}

function jaasPlain(): string {
  const u = kafkaUsers.plain;
  // The broker's own login pair is unused (inter-broker traffic is PLAINTEXT) but PLAIN requires one.
  return `org.apache.kafka.common.security.plain.PlainLoginModule required username="${u.name}" password="${u.password}" user_${u.name}="${u.password}";`;
}

const jaasScram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";

function saslListenerLines(listener: string): string[] {
  const l = listener.toLowerCase();
  return [
    `listener.name.${l}.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512`,
    `listener.name.${l}.plain.sasl.jaas.config=${jaasPlain()}`,
    `listener.name.${l}.scram-sha-256.sasl.jaas.config=${jaasScram}`,
    `listener.name.${l}.scram-sha-512.sasl.jaas.config=${jaasScram}`,
  ];
}

/** server.properties for a one-node KRaft broker+controller with every listener kind on loopback. */
export function buildServerProperties(ports: KafkaPorts, dataDir: string, tls: KafkaTlsFiles): string {
  const host = "127.0.0.1";
  const listeners = [
    `PLAINTEXT://${host}:${ports.plaintext}`,
    `SASL_PLAINTEXT://${host}:${ports.saslPlaintext}`,
    `SSL://${host}:${ports.ssl}`,
    `SASL_SSL://${host}:${ports.saslSsl}`,
    `MTLS://${host}:${ports.mtls}`,
  ];
  const lines = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@${host}:${ports.controller}`,
    `listeners=${[...listeners, `CONTROLLER://${host}:${ports.controller}`].join(",")}`,
    `advertised.listeners=${listeners.join(",")}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL",
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${dataDir}`,
    "num.partitions=1",
    "auto.create.topics.enable=true",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "default.replication.factor=1",
    "min.insync.replicas=1",
    "group.initial.rebalance.delay.ms=0",
    "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    ...saslListenerLines("SASL_PLAINTEXT"),
    ...saslListenerLines("SASL_SSL"),
    "ssl.keystore.type=PKCS12",
    `ssl.keystore.location=${tls.keystore}`,
    `ssl.keystore.password=${storePassword}`,
    `ssl.key.password=${storePassword}`,
    "ssl.truststore.type=PKCS12",
    `ssl.truststore.location=${tls.truststore}`,
    `ssl.truststore.password=${storePassword}`,
    "ssl.client.auth=none",
    "listener.name.mtls.ssl.client.auth=required",
  ];
  return lines.join("\n") + "\n";
}

/** Warnings only, to the broker's log file, so `.stack/logs/kafka.log` shows what went wrong and little else. */
export function buildLog4j2Properties(): string {
  return [
    "status=warn",
    "appender.out.type=Console",
    "appender.out.name=out",
    "appender.out.layout.type=PatternLayout",
    "appender.out.layout.pattern=[%d] %p %m (%c)%n",
    "rootLogger.level=warn",
    "rootLogger.appenderRef.out.ref=out",
    // One line that tells a reader of the log the broker came up.
    "logger.started.name=kafka.server.KafkaRaftServer",
    "logger.started.level=info",
  ].join("\n") + "\n";
}

/** `--add-scram` arguments for `StorageTool format`, seeding both SCRAM users. */
export function scramFormatArgs(): string[] {
  const { scram256, scram512 } = kafkaUsers;
  return [
    "--add-scram",
    `SCRAM-SHA-256=[name=${scram256.name},password=${scram256.password}]`,
    "--add-scram",
    `SCRAM-SHA-512=[name=${scram512.name},password=${scram512.password}]`,
  ];
}
