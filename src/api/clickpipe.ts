import { z } from "zod";
import { DNS_SUBDOMAIN_PATTERN, pattern } from "./common.js";
import { type Problem, acceptedText, formatProblem, problemsFromIssues } from "./problems.js";
import { ClickPipeSpecSchema } from "./spec.js";
import { ClickPipeStatusSchema } from "./status.js";

export const API_GROUP = "clickpipes.io";
export const API_VERSION = "v1alpha1";
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const KIND = "ClickPipe";
export const PLURAL = "clickpipes";
export const SINGULAR = "clickpipe";
export const SHORT_NAMES = ["cp"] as const;
/** Label carried by each pipe's consumer Deployment and pods; status.selector selects on it. */
export const PIPE_LABEL = "clickpipes.io/pipe";

/** Consumer Deployments are named after the pipe, so the name is kept to a DNS label. */
export const PIPE_NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const PIPE_NAME_MAX_LENGTH = 63;

/**
 * Object metadata: only the fields the product reads are typed; everything else the apiserver
 * adds (resourceVersion, managedFields, ...) passes through untouched.
 */
export const ObjectMetaSchema = z
  .looseObject({
    name: pattern(PIPE_NAME_PATTERN, "lowercase letters, digits and '-', at most 63 characters")
      .max(PIPE_NAME_MAX_LENGTH)
      .describe("Name of the pipe; also names its consumer Deployment."),
    namespace: pattern(DNS_SUBDOMAIN_PATTERN, "a namespace name").max(63).optional().describe("Namespace. Default: default."),
    uid: z.string().optional(),
    generation: z.int().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .describe("Standard object metadata.");

export const ClickPipeSchema = z
  .strictObject({
    apiVersion: z.literal(API_GROUP_VERSION),
    kind: z.literal(KIND),
    metadata: ObjectMetaSchema,
    spec: ClickPipeSpecSchema,
    status: ClickPipeStatusSchema.optional(),
  })
  .describe("A ClickPipe streams one source into one ClickHouse table (or, for CDC, a set of tables).");

export type ClickPipe = z.output<typeof ClickPipeSchema>;
/** A ClickPipe as written in a manifest, before defaults. */
export type ClickPipeInput = z.input<typeof ClickPipeSchema>;
export type ObjectMeta = z.output<typeof ObjectMetaSchema>;

/** A manifest that is not a valid ClickPipe; `problems` lists every field that is wrong. */
export class ClickPipeValidationError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(`invalid ClickPipe:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
    this.name = "ClickPipeValidationError";
  }
}

const parseParams = {
  reportInput: true,
  error: (issue: z.core.$ZodRawIssue): string | undefined => acceptedText(issue),
} as const;

/** Validates any value against a part of the API, returning problems with paths under `prefix`. */
export function validateWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: readonly PropertyKey[] = [],
): { ok: true; value: z.output<S> } | { ok: false; problems: Problem[] } {
  const result = schema.safeParse(value, parseParams);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: problemsFromIssues(result.error.issues, prefix) };
}

/** Validates a ClickPipe object and applies the schema's defaults; throws ClickPipeValidationError. */
export function parseClickPipe(obj: unknown): ClickPipe {
  const result = validateWith(ClickPipeSchema, obj);
  if (!result.ok) throw new ClickPipeValidationError(result.problems);
  return result.value;
}

/** Problems of a ClickPipe object, empty when it is valid. */
export function clickPipeProblems(obj: unknown): Problem[] {
  const result = validateWith(ClickPipeSchema, obj);
  return result.ok ? [] : result.problems;
}

/** `<namespace>/<name>`, the pipe's identity in logs and in the ClickHouse state tables. */
export function pipeId(pipe: { metadata: { name: string; namespace?: string | undefined } }): string {
  return `${pipe.metadata.namespace ?? "default"}/${pipe.metadata.name}`;
}

/** Default Kafka consumer group of a pipe when spec.source.kafka.consumerGroup is absent. */
export function defaultConsumerGroup(pipe: { metadata: { name: string; namespace?: string | undefined } }): string {
  return `clickpipes-${pipe.metadata.namespace ?? "default"}-${pipe.metadata.name}`;
}
