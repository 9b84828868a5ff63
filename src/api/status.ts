import { z } from "zod";
import { nonEmptyString, pattern } from "./common.js";
import { CONDITION_STATUSES } from "./conditions.js";
import { listMap } from "./rules.js";

export const PIPE_PHASES = ["Provisioning", "Setup", "Snapshot", "Running", "Stopped", "Failed", "Completed"] as const;
export type PipePhase = (typeof PIPE_PHASES)[number];

export const RESYNC_PHASES = ["Resyncing", "Completed", "Failed"] as const;
export type ResyncPhase = (typeof RESYNC_PHASES)[number];
/** The one-shot annotation a user sets on a ClickPipe to ask for a resync (any value); the operator removes it once acknowledged. */
export const RESYNC_ANNOTATION = "clickpipes.io/resync";
/** The resync id the operator puts on the consumers' copy of the pipe (and `clickpipes run` users on their file). */
export const RESYNC_ID_ANNOTATION = "clickpipes.io/resync-id";

const counter = (what: string): z.ZodOptional<z.ZodInt> => z.int().min(0).optional().describe(what);
const time = (what: string): z.ZodOptional<z.ZodISODateTime> =>
  z.iso.datetime({ offset: true }).optional().describe(what);

/** metav1.Condition, field for field, so kubectl and generic tooling understand it. */
export const ConditionSchema = z
  .strictObject({
    type: pattern("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$", "a CamelCase condition type such as Ready")
      .max(316)
      .describe("Condition type: Ready, SourceReachable, DestinationReachable or Progressing."),
    status: z.enum(CONDITION_STATUSES).describe("True, False or Unknown."),
    observedGeneration: z.int().min(0).optional().describe("metadata.generation the condition was computed from."),
    lastTransitionTime: z.iso.datetime({ offset: true }).describe("When status last changed (RFC 3339)."),
    reason: pattern("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", "a CamelCase reason such as Reconciled")
      .max(1024)
      .describe("CamelCase reason, one of the constants in src/api/conditions.ts."),
    message: z.string().max(32768).describe("Human-readable detail; never contains secret values."),
  })
  .describe("A metav1.Condition.");

export const ClickPipeStatusSchema = z
  .strictObject({
    phase: z.enum(PIPE_PHASES).optional().describe("Lifecycle phase: Provisioning, Setup, Snapshot, Running, Stopped, Failed or Completed."),
    observedGeneration: z.int().min(0).optional().describe("metadata.generation the status was computed from."),
    conditions: listMap(z.array(ConditionSchema).max(16), ["type"]).optional().describe("Conditions, one per type."),
    replicas: z
      .strictObject({
        desired: counter("Consumer replicas wanted (0 when Stopped)."),
        ready: counter("Consumer replicas ready; the scale subresource reads it."),
      })
      .optional()
      .describe("Consumer replica counts."),
    selector: nonEmptyString(1024)
      .optional()
      .describe("Label selector of the consumer pods (clickpipes.io/pipe=<name>), for the scale subresource and HPA."),
    ingested: z
      .strictObject({
        rows: counter("Rows inserted since the pipe was created."),
        bytes: counter("Decoded bytes inserted since the pipe was created. Unit: bytes."),
        lastInsertTime: time("Time of the latest successful insert (RFC 3339)."),
      })
      .optional()
      .describe("Totals of what reached ClickHouse."),
    errors: z
      .strictObject({
        records: counter("Records that could not be ingested and went to the error table."),
        system: counter("System errors (connection, permissions, ...) logged to clickpipes_log."),
        lastError: z
          .strictObject({
            time: time("When it happened (RFC 3339)."),
            type: nonEmptyString(255).optional().describe("Error type, as in the error table's error_type."),
            message: z.string().max(4096).optional().describe("Error message (truncated)."),
          })
          .optional()
          .describe("The latest error."),
      })
      .optional()
      .describe("Error counts."),
    lag: z
      .int()
      .min(0)
      .optional()
      .describe("Source backlog where the source can tell: Kafka records behind the high watermark, Kinesis milliseconds behind."),
    snapshot: z
      .strictObject({
        tables: listMap(
          z
            .array(
              z
                .strictObject({
                  table: nonEmptyString(255).describe("Target table name."),
                  partitionsDone: counter("Partitions of the initial load whose rows are in ClickHouse."),
                  partitionsTotal: counter("Partitions the initial load of this table was split into."),
                  rows: counter("Rows the initial load put in (a partition re-read after a restart counts again)."),
                  completed: z.boolean().optional().describe("True once the whole table is loaded."),
                })
                .describe("Initial-load progress of one table."),
            )
            .max(1000),
          ["table"],
        )
          .optional()
          .describe("One entry per mapped table, sorted by name."),
      })
      .optional()
      .describe("Initial-load (snapshot) progress of a CDC pipe, per table; kept once completed."),
    resync: z
      .strictObject({
        id: nonEmptyString(64).describe("Id of the resync, given to the consumers (their ConfigMap) so they roll and reload once per request."),
        requestedAt: time("When the operator acknowledged the clickpipes.io/resync annotation (RFC 3339)."),
        phase: z.enum(RESYNC_PHASES).describe("Resyncing until every table is reloaded into <table>_resync and swapped in; then Completed, or Failed (see message)."),
        completedAt: time("When the consumers reported every table swapped in (RFC 3339)."),
        tables: z.array(nonEmptyString(255)).max(1000).optional().describe("Target tables the resync reloads."),
        message: z.string().max(4096).optional().describe("Why a resync was refused (Failed)."),
      })
      .optional()
      .describe("The latest resync (annotation clickpipes.io/resync, removed once acknowledged): every mapped table re-snapshotted into a new table and swapped in."),
  })
  .describe("Observed state of a ClickPipe, written by the operator.");

export type ClickPipeStatus = z.output<typeof ClickPipeStatusSchema>;
export type Condition = z.output<typeof ConditionSchema>;
