import { z } from "zod";
import { ByteSizeSchema, DurationSchema, nonEmptyString, pattern } from "./common.js";
import {
  BigquerySourceSchema,
  MongodbSourceSchema,
  MysqlSourceSchema,
  PostgresSourceSchema,
} from "./databases.js";
import { DestinationSchema } from "./destination.js";
import { KafkaSourceSchema } from "./kafka.js";
import { KinesisSourceSchema } from "./kinesis.js";
import { ObjectStorageSourceSchema } from "./object-storage.js";
import { type CrossFieldRule, listMap, withRules } from "./rules.js";

export const SOURCE_KINDS = ["kafka", "kinesis", "objectStorage", "postgres", "mysql", "mongodb", "bigquery"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
/** Sources whose target tables come from tableMappings rather than destination.table. */
export const TABLE_MAPPING_SOURCE_KINDS = ["postgres", "mysql", "mongodb", "bigquery"] as const;

export const SCALING_SIZES = ["XS", "S", "M", "L", "XL"] as const;
export const PIPE_STATES = ["Running", "Stopped"] as const;
export const MAX_REPLICAS = 10;

const sourceBase = z
  .strictObject({
    kafka: KafkaSourceSchema.optional(),
    kinesis: KinesisSourceSchema.optional(),
    objectStorage: ObjectStorageSourceSchema.optional(),
    postgres: PostgresSourceSchema.optional(),
    mysql: MysqlSourceSchema.optional(),
    mongodb: MongodbSourceSchema.optional(),
    bigquery: BigquerySourceSchema.optional(),
  })
  .describe("Where data comes from: exactly one of kafka, kinesis, objectStorage, postgres, mysql, mongodb, bigquery.");

type SourceShape = z.output<typeof sourceBase>;
const sourceRules: CrossFieldRule<SourceShape>[] = [
  {
    cel: SOURCE_KINDS.map((kind) => `(has(self.${kind}) ? 1 : 0)`).join(" + ") + " == 1",
    path: [],
    wrong: "must set exactly one source kind",
    accepted: `one of ${SOURCE_KINDS.join(", ")}`,
    holds: (s) => SOURCE_KINDS.filter((kind) => s[kind] !== undefined).length === 1,
  },
];
export const SourceSchema = withRules(sourceBase, sourceRules);

export const FieldMappingSchema = z
  .strictObject({
    sourceField: pattern(
      "^[^.\\s]+(\\.[^.\\s]+)*$",
      "a dotted path into the record such as user.id (no spaces, no empty segments)",
    )
      .max(1024)
      .describe("Dotted path of the value in the decoded record, e.g. user.id; a name with dots cannot be addressed."),
    destinationField: nonEmptyString(255).describe("Destination column that receives the value."),
  })
  .describe("Maps a source field to a destination column. Columns without a mapping take the record's field of the same name.");

const QUANTITY_PATTERN = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$";
const QuantitySchema = z.union([z.int().min(0), pattern(QUANTITY_PATTERN, "a Kubernetes quantity such as 500m, 2, 512Mi")], {
  error: "a Kubernetes quantity such as 500m, 2, 512Mi",
});
const ResourceListSchema = z
  .strictObject({
    cpu: QuantitySchema.optional().describe("CPU, e.g. 500m or 2."),
    memory: QuantitySchema.optional().describe("Memory, e.g. 512Mi or 2Gi."),
  })
  .describe("CPU and memory quantities.");

export const ScalingSchema = z
  .strictObject({
    replicas: z
      .int()
      .min(0)
      .max(MAX_REPLICAS)
      .default(1)
      .describe(`Consumer replicas (0 to ${MAX_REPLICAS}); the scale subresource sets it. Default: 1.`),
    size: z
      .enum(SCALING_SIZES)
      .default("S")
      .describe("Per-replica size preset mapped to CPU/memory requests and limits: XS, S, M, L, XL. Default: S."),
    resources: z
      .strictObject({ requests: ResourceListSchema.optional(), limits: ResourceListSchema.optional() })
      .optional()
      .describe("Explicit per-replica requests and limits; when set they replace the size preset."),
  })
  .describe("How many consumers run and how big each is.");

export const SettingsSchema = z
  .strictObject({
    streamingMaxInsertWaitTime: DurationSchema.default("5s").describe(
      "Streaming sources: longest time rows wait in a batch before the insert. Duration. Default: 5s.",
    ),
    maxBatchRows: z.int().min(1).default(100_000).describe("Rows per insert at most. Unit: rows. Default: 100000."),
    maxBatchBytes: ByteSizeSchema.default("20MiB").describe(
      "Decoded bytes per insert at most. Byte size (integer bytes or e.g. 20MiB). Default: 20MiB.",
    ),
    exactlyOnce: z
      .boolean()
      .default(false)
      .describe(
        "Exactly-once delivery (Kafka): every record lands once, without relying on the insert deduplication window; the table needs _partition and _offset columns (and _topic for several topics). Default: false (at-least-once).",
      ),
    objectStoragePollingInterval: DurationSchema.default("30s").describe(
      "Object storage: how often a continuous pipe lists new files. Duration. Default: 30s.",
    ),
    maxInsertBytes: ByteSizeSchema.default("10GB").describe("Object storage: bytes in one insert batch at most. Byte size. Default: 10GB."),
    maxFileCount: z.int().min(1).default(100).describe("Object storage: files in one insert batch at most. Unit: files. Default: 100."),
    maxThreads: z
      .int()
      .min(1)
      .optional()
      .describe("Object storage: ClickHouse max_threads for file processing. Unit: threads. Default: auto (3)."),
    maxInsertThreads: z
      .int()
      .min(1)
      .default(1)
      .describe("Object storage: ClickHouse max_insert_threads. Unit: threads. Default: 1."),
    minInsertBlockSizeBytes: ByteSizeSchema.default("1GB").describe(
      "Object storage: ClickHouse min_insert_block_size_bytes. Byte size. Default: 1GB.",
    ),
    maxDownloadThreads: z
      .int()
      .min(1)
      .default(4)
      .describe("Object storage: ClickHouse max_download_threads. Unit: threads. Default: 4."),
    parallelDistributedInsertSelect: z
      .int()
      .min(0)
      .max(2)
      .default(2)
      .describe("Object storage: ClickHouse parallel_distributed_insert_select (0, 1 or 2). Default: 2."),
    parallelViewProcessing: z
      .boolean()
      .default(false)
      .describe("Object storage: push to attached materialized views concurrently. Default: false."),
    useClusterFunction: z
      .boolean()
      .default(true)
      .describe("Object storage: process files in parallel across the cluster's nodes (s3Cluster). Default: true."),
  })
  .describe("Batching and delivery settings (the ClickPipes advanced settings).");

const specBase = z
  .strictObject({
    state: z
      .enum(PIPE_STATES)
      .default("Running")
      .describe("Running, or Stopped (consumers scaled to 0, positions kept). Default: Running."),
    source: SourceSchema,
    destination: DestinationSchema,
    fieldMappings: listMap(z.array(FieldMappingSchema).max(1000), ["destinationField"])
      .optional()
      .describe("Source field to destination column mappings; each destinationField once."),
    scaling: ScalingSchema.prefault({}),
    settings: SettingsSchema.prefault({}),
  })
  .describe("Desired state of a ClickPipe; follows the ClickPipes OpenAPI request body.");

type SpecShape = z.output<typeof specBase>;
const STREAMING_KINDS = ["kafka", "kinesis", "objectStorage"] as const;
const celAnySource = (kinds: readonly SourceKind[]): string => kinds.map((kind) => `has(self.source.${kind})`).join(" || ");
const usesTableMappings = (spec: SpecShape): boolean =>
  TABLE_MAPPING_SOURCE_KINDS.some((kind) => spec.source[kind] !== undefined);
const isStreaming = (spec: SpecShape): boolean => STREAMING_KINDS.some((kind) => spec.source[kind] !== undefined);

const specRules: CrossFieldRule<SpecShape>[] = [
  {
    cel: `!(${celAnySource(STREAMING_KINDS)}) || has(self.destination.table)`,
    path: ["destination", "table"],
    wrong: "is required for kafka, kinesis and objectStorage sources",
    accepted: "a table name: letters, digits and '_'",
    holds: (s) => !isStreaming(s) || s.destination.table !== undefined,
  },
  {
    cel: `!(${celAnySource(TABLE_MAPPING_SOURCE_KINDS)}) || !has(self.destination.table)`,
    path: ["destination", "table"],
    wrong: "is not used with postgres, mysql, mongodb and bigquery sources",
    accepted: "remove it and name the tables in the source's tableMappings[].targetTable",
    holds: (s) => !usesTableMappings(s) || s.destination.table === undefined,
  },
  {
    cel: `!(${celAnySource(STREAMING_KINDS)}) || !self.destination.managedTable || has(self.destination.columns)`,
    path: ["destination", "columns"],
    wrong: "is required when managedTable is true",
    accepted: "a list of {name, type} columns, or managedTable: false to use an existing table",
    holds: (s) => !isStreaming(s) || !s.destination.managedTable || s.destination.columns !== undefined,
  },
];

export const ClickPipeSpecSchema = withRules(specBase, specRules);
export type ClickPipeSpec = z.output<typeof ClickPipeSpecSchema>;
/** The spec as written in a manifest, before defaults. */
export type ClickPipeSpecInput = z.input<typeof ClickPipeSpecSchema>;
export type Source = z.output<typeof SourceSchema>;
export type FieldMapping = z.output<typeof FieldMappingSchema>;
export type Scaling = z.output<typeof ScalingSchema>;
export type Settings = z.output<typeof SettingsSchema>;

/** The one source kind a valid spec sets. */
export function sourceKind(spec: Pick<ClickPipeSpec, "source">): SourceKind {
  const kind = SOURCE_KINDS.find((k) => spec.source[k] !== undefined);
  if (kind === undefined) throw new Error("ClickPipe spec has no source; parse it with parseClickPipe first");
  return kind;
}
