import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { type ClickPipe, parseClickPipe } from "../api/index.js";
import { ConfigError } from "./errors.js";
import { type SecretDocument, type SecretResolver, secretsFromDirectory, secretsFromDocuments } from "./secrets.js";

export interface LoadedPipe {
  readonly pipe: ClickPipe;
  readonly secrets: SecretResolver;
}

function documents(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, { file });
  }
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new ConfigError(`${file} is not valid YAML: ${doc.errors[0]?.message ?? ""}`, { file });
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

function kindOf(doc: unknown): string | undefined {
  return typeof doc === "object" && doc !== null && "kind" in doc ? String(doc.kind) : undefined;
}

/** `clickpipes run -f FILE`: one ClickPipe and the Secrets it references, as YAML or JSON documents. */
export function loadRunFile(file: string): LoadedPipe {
  const docs = documents(file);
  const pipes = docs.filter((d) => kindOf(d) === "ClickPipe");
  if (pipes.length !== 1) throw new ConfigError(`${file} must hold exactly one ClickPipe document, found ${pipes.length}`, { file });
  const secrets = docs.filter((d) => kindOf(d) === "Secret") as SecretDocument[];
  return { pipe: parseClickPipe(pipes[0]), secrets: secretsFromDocuments(secrets) };
}

/** `clickpipes consume`: the resolved pipe in CLICKPIPE_CONFIG_FILE, Secrets mounted under CLICKPIPE_SECRETS_DIR. */
export function loadConsumeConfig(env: NodeJS.ProcessEnv): LoadedPipe {
  const file = env.CLICKPIPE_CONFIG_FILE;
  if (file === undefined || file === "") throw new ConfigError("CLICKPIPE_CONFIG_FILE is not set: it must name the pipe's JSON or YAML file");
  const dir = env.CLICKPIPE_SECRETS_DIR ?? "/etc/clickpipes/secrets";
  const docs = documents(file);
  if (docs.length !== 1) throw new ConfigError(`${file} must hold one ClickPipe document, found ${docs.length}`, { file });
  return { pipe: parseClickPipe(docs[0]), secrets: secretsFromDirectory(dir) };
}

/** CLICKPIPES_HTTP_PORT (default 8080; 0 picks a free port). */
export function httpPort(env: NodeJS.ProcessEnv): number {
  const text = env.CLICKPIPES_HTTP_PORT ?? "8080";
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`CLICKPIPES_HTTP_PORT=${JSON.stringify(text)} is not a port: use an integer from 0 to 65535`);
  }
  return port;
}

/**
 * The ordinal of a StatefulSet pod from its name (`<statefulset>-<ordinal>`), for clusters
 * that do not put the `apps.kubernetes.io/pod-index` label on pods (before Kubernetes 1.28).
 */
export function ordinalOfPodName(podName: string): number | undefined {
  const m = /-(\d+)$/.exec(podName);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * This consumer's place among its pipe's replicas, for sources that split their streams
 * between replicas themselves (Kinesis shards): CLICKPIPES_REPLICA_INDEX (0-based) and
 * CLICKPIPES_REPLICAS. In a StatefulSet the operator fills the index from the pod-index
 * label, which is empty where the cluster sets no such label: the ordinal at the end of
 * POD_NAME is used then. Default: the only replica.
 */
export function replicaOf(env: NodeJS.ProcessEnv): { index: number; count: number } {
  const count = Number(env.CLICKPIPES_REPLICAS ?? "1");
  if (!Number.isInteger(count) || count < 1) {
    throw new ConfigError(`CLICKPIPES_REPLICAS=${JSON.stringify(env.CLICKPIPES_REPLICAS)} is not a replica count: use an integer of at least 1`);
  }
  const indexText = env.CLICKPIPES_REPLICA_INDEX ?? "";
  if (indexText === "" && env.POD_NAME !== undefined && env.POD_NAME !== "" && count > 1) {
    const ordinal = ordinalOfPodName(env.POD_NAME);
    if (ordinal === undefined || ordinal >= count) {
      throw new ConfigError(`CLICKPIPES_REPLICA_INDEX is empty and POD_NAME=${JSON.stringify(env.POD_NAME)} ends in no ordinal from 0 to ${count - 1}: run the consumers as a StatefulSet or set CLICKPIPES_REPLICA_INDEX`);
    }
    return { index: ordinal, count };
  }
  const index = Number(indexText === "" ? "0" : indexText);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new ConfigError(`CLICKPIPES_REPLICA_INDEX=${JSON.stringify(env.CLICKPIPES_REPLICA_INDEX)} is not a replica index: use an integer from 0 to ${count - 1}`);
  }
  return { index, count };
}
