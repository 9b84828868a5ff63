import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client";
import { clickhouse, count, createTopic, kafka, type StackEnv } from "../helpers/stack-clients.js";
import { repoRoot } from "../stack/env.js";
import { freePort, run, sleep, waitFor } from "../stack/process.js";
import { waitCrdEstablished } from "../helpers/crd-established.js";

/**
 * Helpers of the operator e2e suites: the operator as a child process (the built CLI, as
 * the image runs it), kubectl, Kafka and ClickHouse clients on the stack's env.
 */

export function suffix(): string {
  return randomBytes(3).toString("hex");
}

export function kubectl(env: StackEnv, args: string[], input?: string): Promise<string> {
  return run(join(env.STACK_BIN ?? "", "kubectl"), args, { env: { KUBECONFIG: env.KUBECONFIG }, input });
}

export async function kubectlJson<T>(env: StackEnv, args: string[]): Promise<T | undefined> {
  try {
    return JSON.parse(await kubectl(env, [...args, "-o", "json"])) as T;
  } catch (error) {
    if (error instanceof Error && /NotFound|not found/.test(error.message)) return undefined;
    throw error;
  }
}

export async function applyCrd(env: StackEnv): Promise<void> {
  await kubectl(env, ["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, "crds", "clickpipes.io_clickpipes.yaml")]);
  await waitCrdEstablished((args) => kubectl(env, args));
}

export async function createNamespace(env: StackEnv, ns: string): Promise<void> {
  await kubectl(env, ["create", "namespace", ns]);
}

export async function deleteNamespace(env: StackEnv, ns: string): Promise<void> {
  await kubectl(env, ["delete", "namespace", ns, "--wait=false", "--ignore-not-found"]);
}

export async function adminSecret(env: StackEnv, ns: string, name = "ch-admin"): Promise<void> {
  await kubectl(env, ["-n", ns, "create", "secret", "generic", name, `--from-literal=username=${env.CLICKHOUSE_USER}`, `--from-literal=password=${env.CLICKHOUSE_PASSWORD}`]);
}

export interface PipeOptions {
  readonly name: string;
  readonly namespace: string;
  readonly topic: string;
  readonly table: string;
  readonly replicas?: number;
  readonly brokers?: string;
  readonly managedTable?: boolean;
  readonly adminSecret?: string;
}

export function pipeManifest(env: StackEnv, o: PipeOptions): string {
  return JSON.stringify({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      source: { kafka: { brokers: o.brokers ?? env.KAFKA_BROKERS, topics: o.topic, format: "JSONEachRow" } },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: o.adminSecret ?? "ch-admin" } },
        database: "default",
        table: o.table,
        managedTable: o.managedTable ?? true,
        columns: [
          { name: "id", type: "UInt64" },
          { name: "msg", type: "String" },
        ],
        tableDefinition: { sortingKey: ["id"] },
      },
      scaling: { replicas: o.replicas ?? 1, size: "XS" },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}

export async function applyPipe(env: StackEnv, o: PipeOptions): Promise<void> {
  await kubectl(env, ["apply", "-f", "-"], pipeManifest(env, o));
}

export interface PipeObject {
  metadata: { name: string; generation?: number; finalizers?: string[] };
  spec: { state?: string; scaling?: { replicas?: number } };
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string; observedGeneration?: number }[];
    ingested?: { rows?: number; bytes?: number; lastInsertTime?: string };
    errors?: { records?: number; system?: number; lastError?: { type?: string; message?: string } };
    replicas?: { desired?: number; ready?: number };
    lag?: number;
  };
}

export function getPipe(env: StackEnv, ns: string, name: string): Promise<PipeObject | undefined> {
  return kubectlJson<PipeObject>(env, ["-n", ns, "get", "clickpipe", name]);
}

export function condition(pipe: PipeObject | undefined, type: string): NonNullable<NonNullable<PipeObject["status"]>["conditions"]>[number] | undefined {
  return pipe?.status?.conditions?.find((c) => c.type === type);
}

/** Produces records `{id, msg}` for ids [from, to), plus the given malformed values. */
export async function produce(env: StackEnv, topic: string, from: number, to: number, malformed: string[] = []): Promise<void> {
  const producer = kafka(env).producer();
  await producer.connect();
  try {
    const messages = [];
    for (let id = from; id < to; id++) messages.push({ key: String(id), value: JSON.stringify({ id, msg: `m${id}` }) });
    for (const value of malformed) messages.push({ value });
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

export async function tableExists(ch: ClickHouseClient, table: string): Promise<boolean> {
  return (await count(ch, `SELECT count() AS n FROM system.tables WHERE database = 'default' AND name = '${table}'`)) === 1;
}

export class OperatorProcess {
  readonly logs: string[] = [];
  private exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly identity: string,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const collect = (d: Buffer): void => {
      this.logs.push(...d.toString().split("\n").filter(Boolean));
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
  }

  /** `node dist/src/cli/main.js operator`, as the image runs it; needs `npm run build` first. */
  static async start(env: StackEnv, extraEnv: Record<string, string>): Promise<OperatorProcess> {
    const main = join(repoRoot, "dist", "src", "cli", "main.js");
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` before the e2e suites`);
    const port = await freePort();
    const identity = `op-${suffix()}`;
    const child = spawn(process.execPath, [main, "operator"], {
      cwd: repoRoot,
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG, CLICKPIPES_HTTP_PORT: String(port), POD_NAME: identity, LOG_LEVEL: "info", ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const op = new OperatorProcess(child, port, identity);
    await waitFor(`operator ${identity} /healthz`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 30_000);
    return op;
  }

  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    let total = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(name) && (line[name.length] === " " || line[name.length] === "{")) total += Number(line.split(" ").pop());
    }
    return total;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    await Promise.race([this.exited, sleep(20_000)]);
    if (this.alive) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

export { clickhouse, count, createTopic, sleep, waitFor };
