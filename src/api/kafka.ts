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
export const KAFKA_FORMATS = ["JSONEachRow", "AvroConfluent", "Avro", "Protobuf", "CSV", "CSVWithNames", "TabSeparated", "TabSeparatedWithNames"] as const;
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

export const KafkaFormatOptionsSchema = z
  .strictObject({
    avroSchema: z
      .string()
      .min(2)
      .optional()
      .describe("Avro: the writer schema as JSON text; every message is one bare Avro binary record (no registry framing)."),
    protobufSchema: z
      .string()
      .min(1)
      .optional()
      .describe("Protobuf without schemaRegistry: the .proto file text (imports of Google's well-known types only)."),
    protobufMessageType: z
      .string()
      .min(1)
      .optional()
      .describe("Protobuf without schemaRegistry: the message type of every record, e.g. shop.Order."),
    columns: z
      .array(nonEmptyString(256))
      .optional()
      .describe("CSV and TabSeparated: field names by position. Default: the destination columns in order, virtual columns aside."),
    delimiter: z.string().length(1).optional().describe("CSV: field delimiter. Default: ','."),
    avroDecoding: z
      .enum(["consumer", "clickhouse"])
      .optional()
      .describe(
        "AvroConfluent: who decodes the frames. clickhouse (default): the consumer sends the frames as they are (INSERT ... FORMAT AvroConfluent) and ClickHouse fetches each schema id from schemaRegistry.url itself, so the server must reach the registry; applies when every destination column is an Avro field of the same name (no virtual columns, no fieldMappings to another name or path) and the URL pins no subject or id, else the consumer decodes. consumer: the consumer decodes and maps every record (use it when the server cannot reach the registry). Records ClickHouse refuses and ids the registry lacks still become error rows.",
      ),
  })
  .describe("Settings of the record format: schemas given in the manifest and delimited-text field names.");

const kafkaBase = z
  .strictObject({
    type: z
      .enum(KAFKA_TYPES)
      .default("kafka")
      .describe("Kind of Kafka-compatible service; decides defaults such as TLS. Default: kafka."),
    format: z
      .enum(KAFKA_FORMATS)
      .default("JSONEachRow")
      .describe(
        "Record value encoding: JSONEachRow (one JSON object per record), AvroConfluent (needs schemaRegistry), Avro (formatOptions.avroSchema), Protobuf (Confluent framing with schemaRegistry, else formatOptions.protobufSchema and protobufMessageType), CSV or TabSeparated (one row per record, fields by position), CSVWithNames or TabSeparatedWithNames (a header line, then the row). Default: JSONEachRow.",
      ),
    formatOptions: KafkaFormatOptionsSchema.optional(),
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
  {
    cel: "self.format != 'Avro' || (has(self.formatOptions) && has(self.formatOptions.avroSchema))",
    path: ["formatOptions", "avroSchema"],
    wrong: "is required for format Avro",
    accepted: "the writer schema as JSON text",
    holds: (k) => k.format !== "Avro" || has(k.formatOptions?.avroSchema),
  },
  {
    cel: "self.format != 'Protobuf' || has(self.schemaRegistry) || (has(self.formatOptions) && has(self.formatOptions.protobufSchema) && has(self.formatOptions.protobufMessageType))",
    path: ["formatOptions", "protobufSchema"],
    wrong: "is required with protobufMessageType for format Protobuf without schemaRegistry",
    accepted: "the .proto text and the message type, or a schemaRegistry",
    holds: (k) => k.format !== "Protobuf" || has(k.schemaRegistry) || (has(k.formatOptions?.protobufSchema) && has(k.formatOptions?.protobufMessageType)),
  },
];

export const KafkaSourceSchema = withRules(kafkaBase, kafkaRules);
export type KafkaSource = z.output<typeof KafkaSourceSchema>;
export type KafkaOffset = z.output<typeof KafkaOffsetSchema>;
export type SchemaRegistry = z.output<typeof SchemaRegistrySchema>;
export type KafkaFormatOptions = z.output<typeof KafkaFormatOptionsSchema>;

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
