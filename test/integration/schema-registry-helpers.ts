import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type avro from "avsc";
import { stateDir } from "../stack/env.js";
import { type StackEnv, startConsumer, stopConsumer, waitFor } from "./ingest-helpers.js";

/** The stack registry's credentials, as a pipe's Secret and as the helpers' auth header. */
export function registrySecret(env: StackEnv): Record<string, string> {
  return { username: env.SCHEMA_REGISTRY_USER ?? "", password: env.SCHEMA_REGISTRY_PASSWORD ?? "" };
}

function auth(env: StackEnv): string {
  const s = registrySecret(env);
  return `Basic ${Buffer.from(`${s.username}:${s.password}`).toString("base64")}`;
}

/** Register a schema under a subject through the Confluent API; returns its id. */
export async function registerSchema(
  env: StackEnv,
  subject: string,
  schema: unknown,
  schemaType: "AVRO" | "PROTOBUF" = "AVRO",
  references: readonly { name: string; subject: string; version: number }[] = [],
): Promise<number> {
  const body = { schema: typeof schema === "string" ? schema : JSON.stringify(schema), ...(schemaType === "AVRO" ? {} : { schemaType }), ...(references.length === 0 ? {} : { references }) };
  const response = await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: "POST",
    headers: { authorization: auth(env), "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`registering ${subject} failed: ${response.status} ${text}`);
  return (JSON.parse(text) as { id: number }).id;
}

/** Magic byte 0 and the big-endian schema id, then the body. */
export function confluentFrame(id: number, body: Buffer, messageIndexes?: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, ...(messageIndexes === undefined ? [] : [messageIndexes]), body]);
}

export function confluentAvro(id: number, type: avro.Type, value: unknown): Buffer {
  return confluentFrame(id, type.toBuffer(value));
}

const accessLog = join(stateDir, "logs", "schema-registry.log");

/** Where the stack registry's log ends now: lookups are counted from here (identical schemas share ids across runs). */
export function registryLogMark(): number {
  return existsSync(accessLog) ? statSync(accessLog).size : 0;
}

/** How many times the stack's registry was asked for this schema id (or this path under the Confluent API) since `mark` (its access log). */
export function registryLookups(id: number | string, mark: number): number {
  if (!existsSync(accessLog)) return 0;
  const needle = `method="GET" path="/apis/ccompat/v7/${typeof id === "number" ? `schemas/ids/${id}` : id}"`;
  return readFileSync(accessLog).subarray(mark).toString("utf8").split("\n").filter((line) => line.includes(needle)).length;
}

/** Run a consumer on the pipe file until `done`, then stop it. */
export async function consumeUntil(file: string, what: string, done: () => Promise<boolean>): Promise<void> {
  const consumer = startConsumer(file);
  try {
    await waitFor(what, done, 120_000, consumer);
  } finally {
    await stopConsumer(consumer);
  }
}
