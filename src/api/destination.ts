import { z } from "zod";
import { HTTP_URL_PATTERN, nonEmptyString, pattern, secretRef } from "./common.js";
import { type CrossFieldRule, listMap, withRules } from "./rules.js";

export const TABLE_ENGINES = ["MergeTree", "ReplacingMergeTree", "SummingMergeTree", "Null"] as const;
export const PERMISSIONS = ["full", "destinationOnly", "customRole"] as const;

/** ClickHouse names a pipe creates; plain identifiers so no quoting surprises in generated DDL. */
const NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";
const NAME_ACCEPTED = "letters, digits and '_', not starting with a digit";
/** A type expression such as UInt64, Nullable(String), DateTime64(3, 'UTC'), Map(String, Array(Int32)). */
const COLUMN_TYPE_PATTERN = "^[A-Za-z][A-Za-z0-9_]*(\\(.*\\))?$";

export const ClickHouseConnectionSchema = z
  .strictObject({
    url: pattern(HTTP_URL_PATTERN, "an http(s) URL such as https://clickhouse:8443").describe(
      "HTTP(S) endpoint of the ClickHouse server, e.g. https://clickhouse:8443.",
    ),
    credentialsSecretRef: secretRef("ClickHouse admin credentials").describe(
      "Secret with keys `username` and `password` of a ClickHouse user allowed to create tables, users and grants.",
    ),
  })
  .describe("The ClickHouse server the pipe writes to.");

const engineBase = z
  .strictObject({
    type: z.enum(TABLE_ENGINES).default("MergeTree").describe("Table engine. Default: MergeTree."),
    versionColumnId: nonEmptyString(255)
      .optional()
      .describe("ReplacingMergeTree only: the version column; the row with the highest version is kept."),
    isDeletedColumnId: nonEmptyString(255)
      .optional()
      .describe(
        "ReplacingMergeTree only, with versionColumnId: a UInt8 column; a row whose latest version has 1 here is a deletion (CDC: _peerdb_is_deleted).",
      ),
    columnIds: z
      .array(nonEmptyString(255))
      .min(1)
      .max(1000)
      .optional()
      .describe("SummingMergeTree only: the columns to sum; absent: every numeric column outside the sorting key."),
  })
  .describe("Engine of a managed table.");

type Engine = z.output<typeof engineBase>;
const engineRules: CrossFieldRule<Engine>[] = [
  {
    cel: "!has(self.versionColumnId) || self.type == 'ReplacingMergeTree'",
    path: ["versionColumnId"],
    wrong: "is only used with type ReplacingMergeTree",
    accepted: "remove it or set type: ReplacingMergeTree",
    holds: (e) => e.versionColumnId === undefined || e.type === "ReplacingMergeTree",
  },
  {
    cel: "!has(self.isDeletedColumnId) || self.type == 'ReplacingMergeTree'",
    path: ["isDeletedColumnId"],
    wrong: "is only used with type ReplacingMergeTree",
    accepted: "remove it or set type: ReplacingMergeTree",
    holds: (e) => e.isDeletedColumnId === undefined || e.type === "ReplacingMergeTree",
  },
  {
    cel: "!has(self.isDeletedColumnId) || has(self.versionColumnId)",
    path: ["isDeletedColumnId"],
    wrong: "needs versionColumnId (ClickHouse takes is_deleted only after the version column)",
    accepted: "set versionColumnId too, or remove isDeletedColumnId",
    holds: (e) => e.isDeletedColumnId === undefined || e.versionColumnId !== undefined,
  },
  {
    cel: "!has(self.columnIds) || self.type == 'SummingMergeTree'",
    path: ["columnIds"],
    wrong: "is only used with type SummingMergeTree",
    accepted: "remove it or set type: SummingMergeTree",
    holds: (e) => e.columnIds === undefined || e.type === "SummingMergeTree",
  },
];
export const TableEngineSchema = withRules(engineBase, engineRules);

export const TableDefinitionSchema = z
  .strictObject({
    engine: TableEngineSchema.prefault({}),
    sortingKey: z
      .array(nonEmptyString(255))
      .max(32)
      .optional()
      .describe("ORDER BY columns; absent or empty: ORDER BY tuple()."),
    partitionBy: nonEmptyString(1024).optional().describe("PARTITION BY expression, e.g. toYYYYMM(ts); absent: no partitioning."),
    primaryKey: nonEmptyString(1024)
      .optional()
      .describe("PRIMARY KEY expression (a prefix of the sorting key); absent: the sorting key."),
  })
  .describe("How a managed table is created. Absent: MergeTree ORDER BY tuple().");

export const ColumnSpecSchema = z
  .strictObject({
    name: nonEmptyString(255).describe("Column name."),
    type: pattern(COLUMN_TYPE_PATTERN, "a ClickHouse type such as UInt64, Nullable(String) or DateTime64(3)")
      .max(1024)
      .describe("ClickHouse type, e.g. UInt64, Nullable(String), DateTime64(3, 'UTC'), Array(String)."),
  })
  .describe("A destination column.");

const destinationBase = z
  .strictObject({
    clickhouse: ClickHouseConnectionSchema,
    database: pattern(NAME_PATTERN, `a database name: ${NAME_ACCEPTED}`)
      .max(200)
      .default("default")
      .describe("Destination database. Default: default."),
    table: pattern(NAME_PATTERN, `a table name: ${NAME_ACCEPTED}`)
      .max(190)
      .optional()
      .describe(
        "Destination table; required for kafka, kinesis and objectStorage sources (CDC sources name tables in tableMappings). The error table <table>_clickpipes_error is created beside it.",
      ),
    managedTable: z
      .boolean()
      .default(true)
      .describe("Create the table (CREATE TABLE IF NOT EXISTS) from columns and tableDefinition; false: use an existing table. Default: true."),
    tableDefinition: TableDefinitionSchema.optional(),
    columns: listMap(z.array(ColumnSpecSchema).min(1).max(1000), ["name"])
      .optional()
      .describe(
        "Destination columns, each name once; required for a managed table. With an existing table, the columns that are written (absent: all).",
      ),
    permissions: z
      .enum(PERMISSIONS)
      .default("destinationOnly")
      .describe(
        "Rights of the pipe's own ClickHouse user: full (all on the database), destinationOnly (INSERT on the destination, error and clickpipes_log tables; INSERT and SELECT on clickpipes_state) or customRole (the role named in customRole). Default: destinationOnly.",
      ),
    customRole: nonEmptyString(255)
      .optional()
      .describe("ClickHouse role granted to the pipe's user; required when permissions is customRole."),
  })
  .describe("Where rows go: a ClickHouse server, database and table.");

type DestinationShape = z.output<typeof destinationBase>;
const destinationRules: CrossFieldRule<DestinationShape>[] = [
  {
    cel: "self.permissions != 'customRole' || has(self.customRole)",
    path: ["customRole"],
    wrong: "is required when permissions is customRole",
    accepted: "the name of a ClickHouse role",
    holds: (d) => d.permissions !== "customRole" || d.customRole !== undefined,
  },
  {
    cel: "self.permissions == 'customRole' || !has(self.customRole)",
    path: ["customRole"],
    wrong: "is only used when permissions is customRole",
    accepted: "remove it or set permissions: customRole",
    holds: (d) => d.permissions === "customRole" || d.customRole === undefined,
  },
  {
    // ClickHouse refuses any other type for ReplacingMergeTree's is_deleted parameter.
    cel: "!has(self.tableDefinition) || !has(self.tableDefinition.engine) || !has(self.tableDefinition.engine.isDeletedColumnId) || !has(self.columns) || self.columns.exists(c, c.name == self.tableDefinition.engine.isDeletedColumnId && c.type == 'UInt8')",
    path: ["tableDefinition", "engine", "isDeletedColumnId"],
    wrong: "must name a column of type UInt8 in columns",
    accepted: "a column declared with type: UInt8, e.g. _peerdb_is_deleted",
    holds: (d) => {
      const isDeleted = d.tableDefinition?.engine.isDeletedColumnId;
      return isDeleted === undefined || d.columns === undefined || d.columns.some((c) => c.name === isDeleted && c.type === "UInt8");
    },
  },
];

export const DestinationSchema = withRules(destinationBase, destinationRules);
export type Destination = z.output<typeof DestinationSchema>;
export type ClickHouseConnection = z.output<typeof ClickHouseConnectionSchema>;
export type TableDefinition = z.output<typeof TableDefinitionSchema>;
export type TableEngine = z.output<typeof TableEngineSchema>;
export type ColumnSpec = z.output<typeof ColumnSpecSchema>;
