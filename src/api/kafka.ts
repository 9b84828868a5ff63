import { z } from "zod";
import {
  HTTP_URL_PATTERN,
  IAM_ROLE_PATTERN,
  TimestampSchema,
  celIn,
  nonEmptyString,
  pattern,
  secretKeyRef,
  secretRef,
} from "./common.js";
import { type CrossFieldRule, withRules } from "./rules.js";

export const KAFKA_TYPES = ["kafka", "confluent", "msk", "azureeventhub", "redpanda", "warpstream"] as const;
export const KAFKA_FORMATS = ["JSONEachRow", "AvroConfluent"] as const;
export const KAFKA_AUTHENTICATIONS = [
  "PLAIN",
  "SCRAM-SHA-256",
  "SCRAM-SHA-512",
  "IAM_ROLE",
  "IAM_USER",
  "MUTUAL_TLS",
] as const;
export const OFFSET_STRATEGIES = ["from_beginning", "from_latest", "from_timestamp"] as const;

/** Authentications that read a username/password (or access key) pair from credentialsSecretRef. */
const CREDENTIAL_AUTHENTICATIONS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "IAM_USER"] as const;
const IAM_AUTHENTICATIONS = ["IAM_ROLE", "IAM_USER"] as const;

const HOST_PORT = "([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}";
export const BROKERS_PATTERN = `^ *${HOST_PORT} *(, *${HOST_PORT} *)*$`;
const TOPIC = "[A-Za-z0-9._-]{1,249}";
export const TOPICS_PATTERN = `^ *${TOPIC} *(, *${TOPIC} *)*$`;

const offsetBase = z
  .strictObject({
    strategy: z
      .enum(OFFSET_STRATEGIES)
      .default("from_beginning")
      .describe(
        "Where a new consumer group starts reading: from_beginning (earliest offset), from_latest (only new records) or from_timestamp. Committed offsets always win. Default: from_beginning.",
      ),
    timestamp: TimestampSchema.optional().describe(
      "RFC 3339 time to start from; required when strategy is from_timestamp, not allowed otherwise.",
    ),
  })
  .describe("Starting position of a new consumer group.");

type Offset = z.output<typeof offsetBase>;
const offsetRules: CrossFieldRule<Offset>[] = [
  {
    cel: "self.strategy != 'from_timestamp' || has(self.timestamp)",
    path: ["timestamp"],
    wrong: "is required when strategy is from_timestamp",
    accepted: "an RFC 3339 timestamp such as 2024-05-01T00:00:00Z",
    holds: (o) => o.strategy !== "from_timestamp" || o.timestamp !== undefined,
  },
  {
    cel: "self.strategy == 'from_timestamp' || !has(self.timestamp)",
    path: ["timestamp"],
    wrong: "is only allowed when strategy is from_timestamp",
    accepted: "remove it or set strategy: from_timestamp",
    holds: (o) => o.strategy === "from_timestamp" || o.timestamp === undefined,
  },
];
export const KafkaOffsetSchema = withRules(offsetBase, offsetRules);

export const SchemaRegistrySchema = z
  .strictObject({
    url: pattern(HTTP_URL_PATTERN, "an http(s) URL such as https://registry:8081").describe(
      "Base URL of a Confluent-compatible schema registry; AvroConfluent records name their schema by id and it is fetched from here.",
    ),
    credentialsSecretRef: secretRef("the registry's basic-auth `username` and `password`")
      .optional()
      .describe("Secret with keys `username` and `password` for the registry's basic auth; absent: no auth."),
  })
  .describe("Schema registry for the AvroConfluent format.");

const kafkaBase = z
  .strictObject({
    type: z
      .enum(KAFKA_TYPES)
      .default("kafka")
      .describe("Kind of Kafka-compatible service; decides defaults such as TLS. Default: kafka."),
    format: z
      .enum(KAFKA_FORMATS)
      .default("JSONEachRow")
      .describe("Record value encoding: JSONEachRow (one JSON object per record) or AvroConfluent (needs schemaRegistry). Default: JSONEachRow."),
    brokers: pattern(BROKERS_PATTERN, "a comma-separated list of host:port, e.g. broker-1:9092,broker-2:9092").describe(
      "Bootstrap brokers as a comma-separated host:port list, e.g. broker-1:9092,broker-2:9092.",
    ),
    topics: pattern(TOPICS_PATTERN, "a comma-separated list of topic names (letters, digits, '.', '_', '-')").describe(
      "Topics to consume, comma-separated.",
    ),
    consumerGroup: nonEmptyString(249)
      .optional()
      .describe("Kafka consumer group id. Default: clickpipes-<namespace>-<name>."),
    offset: KafkaOffsetSchema.prefault({}),
    authentication: z
      .enum(KAFKA_AUTHENTICATIONS)
      .optional()
      .describe(
        "SASL mechanism or client-certificate authentication; absent for a broker without authentication. IAM_ROLE and IAM_USER are for type msk.",
      ),
    tls: z
      .boolean()
      .optional()
      .describe(
        "Connect with TLS. Default: true when caCertificateSecretRef or clientCertificateSecretRef is set or type is confluent, msk, azureeventhub or warpstream; false otherwise.",
      ),
    credentialsSecretRef: secretRef("SASL credentials")
      .optional()
      .describe(
        "Secret with keys `username` and `password` (PLAIN, SCRAM-*; for azureeventhub the connection string is the password) or `accessKeyId` and `secretAccessKey` (IAM_USER). Required for those authentications.",
      ),
    caCertificateSecretRef: secretKeyRef("the PEM CA certificate that signed the brokers' certificates", "ca.crt")
      .optional()
      .describe("CA certificate to trust for the brokers' TLS certificates; absent: the system trust store."),
    clientCertificateSecretRef: secretRef("the client certificate")
      .optional()
      .describe("Secret with keys `tls.crt` and `tls.key` (PEM, as in a kubernetes.io/tls Secret); required for MUTUAL_TLS."),
    iamRole: pattern(IAM_ROLE_PATTERN, "an IAM role ARN such as arn:aws:iam::123456789012:role/clickpipes")
      .optional()
      .describe("IAM role ARN to assume; required for IAM_ROLE."),
    schemaRegistry: SchemaRegistrySchema.optional(),
  })
  .describe("Kafka-compatible source: Apache Kafka, Confluent Cloud, Amazon MSK, Azure Event Hubs, Redpanda, WarpStream.");

type Kafka = z.output<typeof kafkaBase>;
const has = (value: unknown): boolean => value !== undefined;
const isOneOf = (value: string | undefined, values: readonly string[]): boolean =>
  value !== undefined && values.includes(value);

const kafkaRules: CrossFieldRule<Kafka>[] = [
  {
    cel: `!(${celIn("authentication", CREDENTIAL_AUTHENTICATIONS)}) || has(self.credentialsSecretRef)`,
    path: ["credentialsSecretRef"],
    wrong: "is required for authentication PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and IAM_USER",
    accepted: "a reference {name} to a Secret with the credentials",
    holds: (k) => !isOneOf(k.authentication, CREDENTIAL_AUTHENTICATIONS) || has(k.credentialsSecretRef),
  },
  {
    cel: `!(${celIn("authentication", ["MUTUAL_TLS"])}) || has(self.clientCertificateSecretRef)`,
    path: ["clientCertificateSecretRef"],
    wrong: "is required for authentication MUTUAL_TLS",
    accepted: "a reference {name} to a Secret with keys tls.crt and tls.key",
    holds: (k) => k.authentication !== "MUTUAL_TLS" || has(k.clientCertificateSecretRef),
  },
  {
    cel: `!has(self.clientCertificateSecretRef) || (${celIn("authentication", ["MUTUAL_TLS"])})`,
    path: ["clientCertificateSecretRef"],
    wrong: "is only used with authentication MUTUAL_TLS",
    accepted: "remove it or set authentication: MUTUAL_TLS",
    holds: (k) => !has(k.clientCertificateSecretRef) || k.authentication === "MUTUAL_TLS",
  },
  {
    cel: `!(${celIn("authentication", ["MUTUAL_TLS"])}) || !has(self.tls) || self.tls`,
    path: ["tls"],
    wrong: "is false but authentication MUTUAL_TLS needs TLS",
    accepted: "true or absent",
    holds: (k) => k.authentication !== "MUTUAL_TLS" || k.tls !== false,
  },
  {
    cel: `!(${celIn("authentication", ["IAM_ROLE"])}) || has(self.iamRole)`,
    path: ["iamRole"],
    wrong: "is required for authentication IAM_ROLE",
    accepted: "an IAM role ARN such as arn:aws:iam::123456789012:role/clickpipes",
    holds: (k) => k.authentication !== "IAM_ROLE" || has(k.iamRole),
  },
  {
    cel: `!(${celIn("authentication", IAM_AUTHENTICATIONS)}) || self.type == 'msk'`,
    path: ["authentication"],
    wrong: "IAM_ROLE and IAM_USER only work with type msk",
    accepted: "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or MUTUAL_TLS, or set type: msk",
    holds: (k) => !isOneOf(k.authentication, IAM_AUTHENTICATIONS) || k.type === "msk",
  },
  {
    cel: "self.format != 'AvroConfluent' || has(self.schemaRegistry)",
    path: ["schemaRegistry"],
    wrong: "is required for format AvroConfluent",
    accepted: "{url, credentialsSecretRef?} of a Confluent-compatible schema registry",
    holds: (k) => k.format !== "AvroConfluent" || has(k.schemaRegistry),
  },
];

export const KafkaSourceSchema = withRules(kafkaBase, kafkaRules);
export type KafkaSource = z.output<typeof KafkaSourceSchema>;
export type KafkaOffset = z.output<typeof KafkaOffsetSchema>;
export type SchemaRegistry = z.output<typeof SchemaRegistrySchema>;

const TLS_BY_DEFAULT: readonly string[] = ["confluent", "msk", "azureeventhub", "warpstream"];

/** Whether the Kafka client connects with TLS, applying the documented default for `tls`. */
export function kafkaUsesTls(source: KafkaSource): boolean {
  if (source.tls !== undefined) return source.tls;
  return (
    source.caCertificateSecretRef !== undefined ||
    source.clientCertificateSecretRef !== undefined ||
    TLS_BY_DEFAULT.includes(source.type)
  );
}
