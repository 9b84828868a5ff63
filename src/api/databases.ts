import { z } from "zod";
import { HOSTNAME_PATTERN, nonEmptyString, pattern, secretKeyRef, secretRef } from "./common.js";
import { type CrossFieldRule, listMap, withRules } from "./rules.js";

/**
 * CDC and snapshot sources (Postgres, MySQL, MongoDB, BigQuery). Their settings and table
 * mappings follow the ClickPipes OpenAPI body; the target tables are named per mapping, so
 * `destination.table` is not used with these sources.
 */

export const REPLICATION_MODES = ["cdc", "snapshot", "cdc_only"] as const;
export const CDC_TABLE_ENGINES = ["MergeTree", "ReplacingMergeTree", "Null"] as const;
export const MONGODB_READ_PREFERENCES = [
  "primary",
  "primaryPreferred",
  "secondary",
  "secondaryPreferred",
  "nearest",
] as const;

const positiveInt = (defaultValue: number, what: string, unit: string): z.ZodDefault<z.ZodInt> =>
  z
    .int()
    .min(1)
    .default(defaultValue)
    .describe(`${what} Unit: ${unit}. Default: ${defaultValue}.`);

const replicationMode = z
  .enum(REPLICATION_MODES)
  .default("cdc")
  .describe(
    "cdc: initial snapshot then continuous replication; snapshot: one-time copy, then the pipe completes; cdc_only: replication without the initial snapshot. Default: cdc.",
  );

const commonCdcSettings = {
  replicationMode,
  syncIntervalSeconds: positiveInt(60, "How often changes are pulled from the source and pushed to ClickHouse.", "seconds"),
  pullBatchSize: positiveInt(100_000, "Rows fetched in one batch (best effort).", "rows"),
  snapshotNumRowsPerPartition: positiveInt(100_000, "Rows per partition of the initial snapshot.", "rows"),
  snapshotNumberOfParallelTables: positiveInt(1, "Tables snapshotted in parallel.", "tables"),
  initialLoadParallelism: positiveInt(4, "Parallel workers per table for the initial snapshot.", "workers"),
};

const PostgresSettingsSchema = z
  .strictObject({
    ...commonCdcSettings,
    publicationName: nonEmptyString(63)
      .optional()
      .describe("Existing publication to replicate from. Default: one created for the mapped tables."),
    replicationSlotName: nonEmptyString(63)
      .optional()
      .describe("Existing logical replication slot (pgoutput). Default: one created by the pipe."),
  })
  .describe("Replication settings.");

export const MYSQL_REPLICATION_MECHANISMS = ["auto", "gtid", "filePosition"] as const;
const MysqlSettingsSchema = z
  .strictObject({
    ...commonCdcSettings,
    replicationMechanism: z
      .enum(MYSQL_REPLICATION_MECHANISMS)
      .default("auto")
      .describe(
        "How replication resumes: gtid (by the GTID set; MySQL needs gtid_mode=ON), filePosition (by binlog file and position), or auto: GTID when the server has GTIDs on (MariaDB always), else file and position. Default: auto.",
      ),
  })
  .describe("Replication settings.");
const MongodbSettingsSchema = z.strictObject({ ...commonCdcSettings }).describe("Replication settings.");
const BigquerySettingsSchema = z
  .strictObject({
    replicationMode: z
      .enum(["snapshot"])
      .default("snapshot")
      .describe("Only snapshot (a one-time copy) is supported for BigQuery. Default: snapshot."),
    snapshotNumRowsPerPartition: commonCdcSettings.snapshotNumRowsPerPartition,
    snapshotNumberOfParallelTables: commonCdcSettings.snapshotNumberOfParallelTables,
  })
  .describe("Snapshot settings.");

const targetTable = pattern("^[A-Za-z_][A-Za-z0-9_]{0,190}$", "a ClickHouse table name: letters, digits and '_'").describe(
  "ClickHouse table the source table is replicated into, in destination.database.",
);

const relationalMappingBase = z.strictObject({
  sourceSchemaName: nonEmptyString(63).describe("Schema (Postgres) or database (MySQL) of the source table."),
  sourceTable: nonEmptyString(63).describe("Source table name."),
  targetTable,
  excludedColumns: z.array(nonEmptyString(63)).max(1000).optional().describe("Source columns not replicated."),
  useCustomSortingKey: z
    .boolean()
    .default(false)
    .describe("Use sortingKeys as the ORDER BY instead of the source primary key. Default: false."),
  sortingKeys: z
    .array(nonEmptyString(63))
    .min(1)
    .max(32)
    .optional()
    .describe("ORDER BY columns of the target table; required when useCustomSortingKey is true."),
  tableEngine: z
    .enum(CDC_TABLE_ENGINES)
    .default("ReplacingMergeTree")
    .describe("Engine of the target table. Default: ReplacingMergeTree."),
});

type RelationalMapping = z.output<typeof relationalMappingBase>;
const relationalMappingRules: CrossFieldRule<RelationalMapping>[] = [
  {
    cel: "!self.useCustomSortingKey || has(self.sortingKeys)",
    path: ["sortingKeys"],
    wrong: "is required when useCustomSortingKey is true",
    accepted: "a list of column names",
    holds: (m) => !m.useCustomSortingKey || m.sortingKeys !== undefined,
  },
  {
    cel: "self.useCustomSortingKey || !has(self.sortingKeys)",
    path: ["sortingKeys"],
    wrong: "is only used when useCustomSortingKey is true",
    accepted: "remove it or set useCustomSortingKey: true",
    holds: (m) => m.useCustomSortingKey || m.sortingKeys === undefined,
  },
];
export const RelationalTableMappingSchema = withRules(
  relationalMappingBase.describe("A source table and the ClickHouse table it is replicated into."),
  relationalMappingRules,
);

function tableMappings<S extends z.ZodType>(mapping: S): z.ZodArray<S> {
  return listMap(
    z
      .array(mapping)
      .min(1)
      .max(1000)
      .describe("Tables to replicate; each targetTable appears once."),
    ["targetTable"],
  );
}

const MongodbTableMappingSchema = z
  .strictObject({
    sourceDatabaseName: nonEmptyString(63).describe("Source database."),
    sourceCollection: nonEmptyString(255).describe("Source collection."),
    targetTable,
  })
  .describe("A collection and the ClickHouse table it is replicated into.");

const BigqueryTableMappingSchema = z
  .strictObject({
    sourceDatasetName: nonEmptyString(1024).describe("Source dataset."),
    sourceTable: nonEmptyString(1024).describe("Source table."),
    targetTable,
    excludedColumns: z.array(nonEmptyString(300)).max(1000).optional().describe("Source columns not copied."),
  })
  .describe("A BigQuery table and the ClickHouse table it is copied into.");

const hostField = pattern(HOSTNAME_PATTERN, "a host name or IP address").describe("Database host name or IP address.");
const tlsField = z
  .boolean()
  .optional()
  .describe("Connect with TLS. Default: true when caCertificateSecretRef is set, false otherwise.");
const caField = secretKeyRef("the PEM CA certificate of the database server", "ca.crt")
  .optional()
  .describe("CA certificate to trust for the server's TLS certificate; absent: the system trust store.");
const dbCredentials = secretRef("the database `username` and `password`").describe(
  "Secret with keys `username` and `password` of the replication user.",
);

/** An SSH bastion the database is reached through (the ClickPipes UI's "SSH tunnelling" option). */
export const SshTunnelSchema = z
  .strictObject({
    host: hostField.describe("SSH bastion host name or IP address."),
    port: z.int().min(1).max(65535).default(22).describe("SSH port of the bastion. Default: 22."),
    user: nonEmptyString(255).describe("SSH user on the bastion."),
    privateKeySecretRef: secretKeyRef("the SSH private key (OpenSSH or PEM) whose public key is in the bastion user's authorized_keys", "privateKey").describe(
      "Secret key holding the SSH private key. Default key: privateKey.",
    ),
  })
  .describe("Reach the database through an SSH tunnel: the consumer connects to the bastion and forwards to host:port as the bastion sees them.");

export const PostgresSourceSchema = z
  .strictObject({
    host: hostField,
    port: z.int().min(1).max(65535).default(5432).describe("TCP port. Default: 5432."),
    database: nonEmptyString(63).describe("Database to replicate from."),
    credentialsSecretRef: dbCredentials,
    tls: tlsField,
    caCertificateSecretRef: caField,
    sshTunnel: SshTunnelSchema.optional(),
    settings: PostgresSettingsSchema.prefault({}),
    tableMappings: tableMappings(RelationalTableMappingSchema),
  })
  .describe("Postgres CDC source (logical replication with pgoutput after a parallel snapshot).");

export const MysqlSourceSchema = z
  .strictObject({
    host: hostField,
    port: z.int().min(1).max(65535).default(3306).describe("TCP port. Default: 3306."),
    credentialsSecretRef: dbCredentials,
    tls: tlsField,
    caCertificateSecretRef: caField,
    sshTunnel: SshTunnelSchema.optional(),
    settings: MysqlSettingsSchema.prefault({}),
    tableMappings: tableMappings(RelationalTableMappingSchema),
  })
  .describe("MySQL / MariaDB CDC source (row-based binlog replication after a snapshot).");

export const MongodbSourceSchema = z
  .strictObject({
    uri: pattern("^mongodb(\\+srv)?://[^\\s]+$", "a mongodb:// or mongodb+srv:// URI without credentials").describe(
      "Connection URI without credentials, e.g. mongodb+srv://cluster0.example.mongodb.net.",
    ),
    readPreference: z
      .enum(MONGODB_READ_PREFERENCES)
      .default("secondaryPreferred")
      .describe("Read preference. Default: secondaryPreferred."),
    credentialsSecretRef: dbCredentials,
    tls: tlsField,
    caCertificateSecretRef: caField,
    settings: MongodbSettingsSchema.prefault({}),
    tableMappings: tableMappings(MongodbTableMappingSchema),
  })
  .describe("MongoDB CDC source (change streams after a snapshot).");

export const BigquerySourceSchema = z
  .strictObject({
    snapshotStagingPath: pattern("^gs://[^\\s]+$", "a gs:// URL such as gs://bucket/staging/").describe(
      "GCS path where table exports are staged.",
    ),
    credentialsSecretRef: secretRef("a GCP service account key").describe(
      "Secret with key `serviceAccountFile`: the base64 GCP service account JSON key.",
    ),
    settings: BigquerySettingsSchema.prefault({}),
    tableMappings: tableMappings(BigqueryTableMappingSchema),
  })
  .describe("BigQuery snapshot source.");

export type PostgresSource = z.output<typeof PostgresSourceSchema>;
export type MysqlSource = z.output<typeof MysqlSourceSchema>;
export type MongodbSource = z.output<typeof MongodbSourceSchema>;
export type BigquerySource = z.output<typeof BigquerySourceSchema>;
export type RelationalTableMapping = z.output<typeof RelationalTableMappingSchema>;
