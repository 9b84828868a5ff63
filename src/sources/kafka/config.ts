import type { KafkaConfig, SASLOptions } from "kafkajs";
import type { ConnectionOptions } from "node:tls";
import { type KafkaSource, SecretKeys, kafkaUsesTls, splitList } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SecretResolver } from "../../ingest/secrets.js";

/**
 * Event Hubs' Kafka surface takes SASL PLAIN with the literal user `$ConnectionString` and the
 * connection string as the password, over TLS on port 9093.
 */
const EVENT_HUBS_USER = "$ConnectionString";

function credentials(source: KafkaSource, secrets: SecretResolver): { username: string; password: string } {
  const ref = source.credentialsSecretRef;
  if (ref === undefined) {
    throw new ConfigError(`spec.source.kafka.credentialsSecretRef is required for authentication ${source.authentication}`);
  }
  if (source.type === "azureeventhub") {
    return { username: EVENT_HUBS_USER, password: secrets.get(ref.name, SecretKeys.password) };
  }
  return { username: secrets.get(ref.name, SecretKeys.username), password: secrets.get(ref.name, SecretKeys.password) };
}

/** The SASL mechanism for the spec's authentication; Event Hubs defaults to PLAIN. */
export function saslOptions(source: KafkaSource, secrets: SecretResolver): SASLOptions | undefined {
  const auth = source.authentication ?? (source.type === "azureeventhub" ? "PLAIN" : undefined);
  switch (auth) {
    case undefined:
    case "MUTUAL_TLS":
      return undefined;
    case "PLAIN":
      return { mechanism: "plain", ...credentials(source, secrets) };
    case "SCRAM-SHA-256":
      return { mechanism: "scram-sha-256", ...credentials(source, secrets) };
    case "SCRAM-SHA-512":
      return { mechanism: "scram-sha-512", ...credentials(source, secrets) };
    case "IAM_ROLE":
    case "IAM_USER":
      throw new ConfigError(
        `authentication ${auth} (MSK IAM) is not supported by this consumer: its Kafka client (kafkajs) has no AWS_MSK_IAM mechanism. ` +
          "Enable SASL/SCRAM-SHA-512 on the MSK cluster and set authentication: SCRAM-SHA-512 with a credentials Secret.",
        { authentication: auth },
      );
  }
}

export function tlsOptions(source: KafkaSource, secrets: SecretResolver): ConnectionOptions | undefined {
  const tls = kafkaUsesTls(source) || source.type === "azureeventhub" || source.authentication === "MUTUAL_TLS";
  if (!tls) return undefined;
  const options: ConnectionOptions = { rejectUnauthorized: true };
  const ca = source.caCertificateSecretRef;
  if (ca !== undefined) options.ca = [secrets.get(ca.name, ca.key)];
  const client = source.clientCertificateSecretRef;
  if (client !== undefined) {
    options.cert = secrets.get(client.name, SecretKeys.tlsCertificate);
    options.key = secrets.get(client.name, SecretKeys.tlsKey);
  }
  return options;
}

/** kafkajs client config from the spec: brokers, TLS (custom CA, client certificate) and SASL. */
export function kafkaClientConfig(source: KafkaSource, secrets: SecretResolver, clientId: string): KafkaConfig {
  const ssl = tlsOptions(source, secrets);
  const sasl = saslOptions(source, secrets);
  return {
    clientId,
    brokers: splitList(source.brokers),
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl }),
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    // Our own retrier decides about retriable failures; kafkajs' gives up and crashes the consumer otherwise.
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
  };
}
