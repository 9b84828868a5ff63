import { z } from "zod";
import { IAM_ROLE_PATTERN, celIn, nonEmptyString, pattern, secretRef } from "./common.js";
import { type CrossFieldRule, withRules } from "./rules.js";

export const OBJECT_STORAGE_TYPES = ["s3", "gcs", "dospaces", "azureblobstorage"] as const;
export const OBJECT_STORAGE_FORMATS = ["JSONEachRow", "CSV", "TabSeparated", "Parquet", "Avro"] as const;
export const COMPRESSIONS = ["auto", "none", "gzip", "brotli", "xz", "zstd", "lz4", "bz2", "snappy"] as const;
export const OBJECT_STORAGE_AUTHENTICATIONS = ["IAM_USER", "IAM_ROLE", "SERVICE_ACCOUNT", "CONNECTION_STRING"] as const;

/** Authentications that read their secret material from credentialsSecretRef. */
const SECRET_AUTHENTICATIONS = ["IAM_USER", "SERVICE_ACCOUNT", "CONNECTION_STRING"] as const;

const objectStorageBase = z
  .strictObject({
    type: z
      .enum(OBJECT_STORAGE_TYPES)
      .describe("Object store: s3 (and S3-compatible stores via an http(s) URL), gcs, dospaces or azureblobstorage."),
    url: pattern("^(https?|s3|gs)://[^\\s]+$", "an http(s)://, s3:// or gs:// URL, with globs, e.g. https://bucket.s3.amazonaws.com/data/*.json")
      .optional()
      .describe(
        "Location of the files, with ClickHouse globs (*, **, {a,b}, {1..9}); required except for azureblobstorage, which uses azureContainerName and path.",
      ),
    azureContainerName: nonEmptyString(63)
      .optional()
      .describe("Azure Blob Storage container; required for type azureblobstorage."),
    path: nonEmptyString(1024)
      .optional()
      .describe("Path with globs inside azureContainerName, e.g. data/*.json; required for type azureblobstorage."),
    format: z
      .enum(OBJECT_STORAGE_FORMATS)
      .default("JSONEachRow")
      .describe("File format: JSONEachRow, CSV, TabSeparated, Parquet or Avro. Default: JSONEachRow."),
    compression: z
      .enum(COMPRESSIONS)
      .default("auto")
      .describe("File compression; auto detects it from the file extension. Default: auto."),
    continuous: z
      .boolean()
      .default(false)
      .describe(
        "Keep polling for new files (in lexical order, each file ingested once) instead of finishing after the files present at start. Default: false.",
      ),
    queueUrl: pattern("^https?://[^\\s/]+/[0-9]+/[A-Za-z0-9_-]{1,80}$", "an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-queue")
      .optional()
      .describe(
        "Any-order (unordered) mode of a continuous s3 pipe: the SQS queue that receives the bucket's S3 ObjectCreated event notifications. The pipe loads the files present at start, then ingests each file an event names, in any order, each once. Same credentials as the bucket.",
      ),
    authentication: z
      .enum(OBJECT_STORAGE_AUTHENTICATIONS)
      .optional()
      .describe(
        "IAM_USER (access key, s3/dospaces/gcs HMAC), IAM_ROLE (s3), SERVICE_ACCOUNT (gcs) or CONNECTION_STRING (azureblobstorage); absent for a public bucket.",
      ),
    credentialsSecretRef: secretRef("object storage credentials")
      .optional()
      .describe(
        "Secret with keys `accessKeyId` and `secretAccessKey` (IAM_USER), `serviceAccountKey` (SERVICE_ACCOUNT, the base64 JSON key) or `connectionString` (CONNECTION_STRING).",
      ),
    iamRole: pattern(IAM_ROLE_PATTERN, "an IAM role ARN such as arn:aws:iam::123456789012:role/clickpipes")
      .optional()
      .describe("IAM role ARN to assume; required for IAM_ROLE."),
  })
  .describe("Object storage source: files in S3, GCS, DigitalOcean Spaces or Azure Blob Storage.");

type ObjectStorage = z.output<typeof objectStorageBase>;
const isAzure = (o: ObjectStorage): boolean => o.type === "azureblobstorage";
const objectStorageRules: CrossFieldRule<ObjectStorage>[] = [
  {
    cel: "self.type == 'azureblobstorage' || has(self.url)",
    path: ["url"],
    wrong: "is required for type s3, gcs and dospaces",
    accepted: "an http(s)://, s3:// or gs:// URL with globs",
    holds: (o) => isAzure(o) || o.url !== undefined,
  },
  {
    cel: "self.type != 'azureblobstorage' || (has(self.azureContainerName) && has(self.path))",
    path: ["azureContainerName"],
    wrong: "azureContainerName and path are required for type azureblobstorage",
    accepted: "a container name and a path with globs",
    holds: (o) => !isAzure(o) || (o.azureContainerName !== undefined && o.path !== undefined),
  },
  {
    cel: `!(${celIn("authentication", SECRET_AUTHENTICATIONS)}) || has(self.credentialsSecretRef)`,
    path: ["credentialsSecretRef"],
    wrong: "is required for authentication IAM_USER, SERVICE_ACCOUNT and CONNECTION_STRING",
    accepted: "a reference {name} to a Secret with the credentials",
    holds: (o) =>
      o.authentication === undefined ||
      !(SECRET_AUTHENTICATIONS as readonly string[]).includes(o.authentication) ||
      o.credentialsSecretRef !== undefined,
  },
  {
    cel: `!(${celIn("authentication", ["IAM_ROLE"])}) || has(self.iamRole)`,
    path: ["iamRole"],
    wrong: "is required for authentication IAM_ROLE",
    accepted: "an IAM role ARN such as arn:aws:iam::123456789012:role/clickpipes",
    holds: (o) => o.authentication !== "IAM_ROLE" || o.iamRole !== undefined,
  },
  {
    cel: `!(${celIn("authentication", ["CONNECTION_STRING"])}) || self.type == 'azureblobstorage'`,
    path: ["authentication"],
    wrong: "CONNECTION_STRING only works with type azureblobstorage",
    accepted: "IAM_USER, IAM_ROLE (s3) or SERVICE_ACCOUNT (gcs)",
    holds: (o) => o.authentication !== "CONNECTION_STRING" || isAzure(o),
  },
  {
    cel: `!(${celIn("authentication", ["SERVICE_ACCOUNT"])}) || self.type == 'gcs'`,
    path: ["authentication"],
    wrong: "SERVICE_ACCOUNT only works with type gcs",
    accepted: "IAM_USER, IAM_ROLE (s3) or CONNECTION_STRING (azureblobstorage)",
    holds: (o) => o.authentication !== "SERVICE_ACCOUNT" || o.type === "gcs",
  },
  {
    cel: "!has(self.queueUrl) || (self.type == 's3' && self.continuous == true)",
    path: ["queueUrl"],
    wrong: "only works with type s3 and continuous: true",
    accepted: "an SQS queue URL on a continuous s3 pipe, or no queueUrl",
    holds: (o) => o.queueUrl === undefined || (o.type === "s3" && o.continuous),
  },
];

export const ObjectStorageSourceSchema = withRules(objectStorageBase, objectStorageRules);
export type ObjectStorageSource = z.output<typeof ObjectStorageSourceSchema>;
