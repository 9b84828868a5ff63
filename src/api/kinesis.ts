import { z } from "zod";
import { HTTP_URL_PATTERN, IAM_ROLE_PATTERN, TimestampSchema, pattern, secretRef } from "./common.js";
import { type CrossFieldRule, withRules } from "./rules.js";

export const KINESIS_ITERATOR_TYPES = ["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] as const;
export const AWS_AUTHENTICATIONS = ["IAM_ROLE", "IAM_USER"] as const;
export const AWS_REGION_PATTERN = "^[a-z]{2}(-[a-z]+)+-[0-9]+$";

const kinesisBase = z
  .strictObject({
    streamName: pattern("^[A-Za-z0-9_.-]{1,128}$", "a Kinesis stream name: 1-128 letters, digits, '_', '.', '-'").describe(
      "Name of the Kinesis data stream.",
    ),
    region: pattern(AWS_REGION_PATTERN, "an AWS region such as us-east-1").describe("AWS region of the stream, e.g. us-east-1."),
    format: z.enum(["JSONEachRow"]).default("JSONEachRow").describe("Record encoding. Default: JSONEachRow."),
    iteratorType: z
      .enum(KINESIS_ITERATOR_TYPES)
      .default("TRIM_HORIZON")
      .describe(
        "Where reading starts on a shard without a checkpoint: TRIM_HORIZON (oldest record), LATEST (new records only) or AT_TIMESTAMP. Default: TRIM_HORIZON.",
      ),
    timestamp: TimestampSchema.optional().describe("RFC 3339 start time; required when iteratorType is AT_TIMESTAMP."),
    authentication: z
      .enum(AWS_AUTHENTICATIONS)
      .default("IAM_USER")
      .describe("IAM_USER (access key from credentialsSecretRef) or IAM_ROLE (assume iamRole). Default: IAM_USER."),
    credentialsSecretRef: secretRef("an AWS access key")
      .optional()
      .describe("Secret with keys `accessKeyId` and `secretAccessKey`; required for IAM_USER."),
    iamRole: pattern(IAM_ROLE_PATTERN, "an IAM role ARN such as arn:aws:iam::123456789012:role/clickpipes")
      .optional()
      .describe("IAM role ARN to assume; required for IAM_ROLE."),
    endpoint: pattern(HTTP_URL_PATTERN, "an http(s) URL such as http://localhost:4567")
      .optional()
      .describe("Kinesis endpoint override (a VPC endpoint or a local emulator); absent: the region's public endpoint."),
    enhancedFanOut: z
      .strictObject({
        consumerName: pattern("^[a-zA-Z0-9_.-]{1,128}$", "a stream consumer name: 1-128 letters, digits, '_', '.', '-'")
          .optional()
          .describe("Name of the registered stream consumer, created when absent. Default: clickpipes-<namespace>-<name>."),
      })
      .optional()
      .describe(
        "Read with enhanced fan-out (SubscribeToShard through a registered stream consumer): 2 MB/s per shard for this pipe alone and pushed records, at AWS's fan-out price. Absent: polling with GetRecords, sharing each shard's 5 calls/s and 2 MB/s with the stream's other readers.",
      ),
  })
  .describe("Amazon Kinesis Data Streams source.");

type Kinesis = z.output<typeof kinesisBase>;
const kinesisRules: CrossFieldRule<Kinesis>[] = [
  {
    cel: "self.iteratorType != 'AT_TIMESTAMP' || has(self.timestamp)",
    path: ["timestamp"],
    wrong: "is required when iteratorType is AT_TIMESTAMP",
    accepted: "an RFC 3339 timestamp such as 2024-05-01T00:00:00Z",
    holds: (k) => k.iteratorType !== "AT_TIMESTAMP" || k.timestamp !== undefined,
  },
  {
    cel: "self.iteratorType == 'AT_TIMESTAMP' || !has(self.timestamp)",
    path: ["timestamp"],
    wrong: "is only allowed when iteratorType is AT_TIMESTAMP",
    accepted: "remove it or set iteratorType: AT_TIMESTAMP",
    holds: (k) => k.iteratorType === "AT_TIMESTAMP" || k.timestamp === undefined,
  },
  {
    cel: "self.authentication != 'IAM_USER' || has(self.credentialsSecretRef)",
    path: ["credentialsSecretRef"],
    wrong: "is required for authentication IAM_USER",
    accepted: "a reference {name} to a Secret with keys accessKeyId and secretAccessKey",
    holds: (k) => k.authentication !== "IAM_USER" || k.credentialsSecretRef !== undefined,
  },
  {
    cel: "self.authentication != 'IAM_ROLE' || has(self.iamRole)",
    path: ["iamRole"],
    wrong: "is required for authentication IAM_ROLE",
    accepted: "an IAM role ARN such as arn:aws:iam::123456789012:role/clickpipes",
    holds: (k) => k.authentication !== "IAM_ROLE" || k.iamRole !== undefined,
  },
];

export const KinesisSourceSchema = withRules(kinesisBase, kinesisRules);
export type KinesisSource = z.output<typeof KinesisSourceSchema>;
