import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client";
import type { KafkaConfig, Message } from "kafkajs";
import { type ClickPipe, parseClickPipe } from "../../src/api/index.js";
import { createPipeTables, pipeTableSpecs } from "../../src/clickhouse/pipe-tables.js";
import { createUserSql, grantsSql, pipeUserName, setPasswordSql } from "../../src/clickhouse/users.js";
import { sourcePlugin } from "../../src/sources/registry.js";
import { kafka, type StackEnv } from "../helpers/stack-clients.js";
import { stringify } from "yaml";
import type { StackContext } from "../stack/component.js";
import { componentLoaders } from "../stack/components.js";
import { binDir, cacheDir, repoRoot } from "../stack/env.js";

export { clickhouse, count, createTopic, kafka, queryRows, type StackEnv } from "../helpers/stack-clients.js";

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString("hex")}`;
}

/** Produce messages round-robin over the partitions, in chunks so 100k messages go quickly. */
export async function produce(env: StackEnv, topic: string, messages: readonly Message[], partitions: number, config: Partial<KafkaConfig> = {}): Promise<void> {
  const producer = kafka(env, config).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // A produce request carries one record batch per partition, which the broker caps at 1 MB.
    let i = 0;
    while (i < messages.length) {
      const part: Message[] = [];
      let bytes = 0;
      for (; i < messages.length && bytes < 600_000 * partitions && part.length < 5_000; i++) {
        const m = messages[i]!;
        bytes += String(m.value ?? "").length + 64;
        part.push({ ...m, partition: m.partition ?? i % partitions });
      }
      await producer.send({ topic, messages: part });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface PipeFileOptions {
  readonly name: string;
  readonly namespace?: string;
  readonly database: string;
  readonly table: string;
  readonly kafka: Record<string, unknown>;
  readonly columns?: readonly { name: string; type: string }[];
  readonly managedTable?: boolean;
  readonly fieldMappings?: readonly { sourceField: string; destinationField: string }[];
  readonly settings?: Record<string, unknown>;
  readonly secrets?: Record<string, Record<string, string>>;
  readonly clickhouseUrl?: string;
  readonly sortingKey?: readonly string[];
}

/** A `clickpipes run` file: the ClickPipe and its Secrets. */
export function writePipeFile(env: StackEnv, o: PipeFileOptions): string {
  const dir = mkdtempSync(join(tmpdir(), "ingest-"));
  const pipe = {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name, namespace: o.namespace ?? "test" },
    spec: {
      source: { kafka: o.kafka },
      destination: {
        clickhouse: { url: o.clickhouseUrl ?? env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: o.database,
        table: o.table,
        managedTable: o.managedTable ?? true,
        ...(o.columns === undefined ? {} : { columns: o.columns }),
        ...(o.sortingKey === undefined ? {} : { tableDefinition: { engine: { type: "MergeTree" }, sortingKey: o.sortingKey } }),
      },
      ...(o.fieldMappings === undefined ? {} : { fieldMappings: o.fieldMappings }),
      settings: { streamingMaxInsertWaitTime: "1s", ...o.settings },
    },
  };
  const secrets = { "ch-admin": { username: env.CLICKHOUSE_USER as string, password: env.CLICKHOUSE_PASSWORD as string }, ...o.secrets };
  const docs = [
    pipe,
    ...Object.entries(secrets).map(([name, stringData]) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData })),
  ];
  const file = join(dir, "pipe.yaml");
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

export interface Consumer {
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  log(): string;
}

/** `clickpipes run -f FILE` as a child process (through tsx, as a developer runs it). */
export function startConsumer(file: string, extraEnv: Record<string, string> = {}): Consumer {
  const logFile = `${file}.${Date.now()}.log`;
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), "run", "-f", file], {
    cwd: repoRoot,
    env: { ...process.env, CLICKPIPES_HTTP_PORT: "0", LOG_LEVEL: "info", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, logFile, exited, log: () => readFileSync(logFile, "utf8") };
}

export async function stopConsumer(c: Consumer, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return c.child.exitCode;
  c.child.kill(signal);
  return c.exited;
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000, consumer?: Consumer): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const tail = consumer === undefined ? "" : `\nconsumer log tail:\n${consumer.log().slice(-3000)}`;
  throw new Error(`timed out waiting for ${what} (last error: ${String(lastError)})${tail}`);
}

export interface PrivateComponent {
  readonly env: StackEnv;
  stop(): Promise<void>;
  /** Start again on the same ports and data. */
  start(): Promise<void>;
  /** Stop and delete its state. */
  destroy(): Promise<void>;
  /** Its process id (as the component recorded it): for /proc figures. */
  pid(): number;
  /** Send a signal to its process (SIGSTOP/SIGCONT to freeze and thaw it). */
  signal(signal: NodeJS.Signals): void;
}

/**
 * A private instance of a stack component (its own ports, data and pids under a temp dir),
 * for fault tests that stop it: the shared stack stays up for the other suites.
 */
export async function privateComponent(name: "kafka" | "clickhouse" | "schema-registry" | "mariadb" | "postgres"): Promise<PrivateComponent> {
  const component = await componentLoaders[name]!();
  const stateDir = mkdtempSync(join(tmpdir(), `ingest-${name}-`));
  // Servers that drop root (Postgres runs as the postgres user) must reach their dir under it.
  chmodSync(stateDir, 0o755);
  const context = (previous: StackEnv | undefined): StackContext => ({
    root: repoRoot,
    cacheDir,
    stateDir,
    binDir,
    env: {},
    previous,
    log: () => undefined,
  });
  // Components record their process under their own name (process.ts recordPid).
  const pid = (): number => Number(readFileSync(join(stateDir, "pids", `${name}.pid`), "utf8"));
  await component.provision(context(undefined));
  let env = await component.start(context(undefined));
  return {
    get env() {
      return env;
    },
    stop: () => component.stop(context(env)),
    start: async () => {
      env = await component.start(context(env));
    },
    destroy: async () => {
      await component.stop(context(env));
      rmSync(stateDir, { recursive: true, force: true });
    },
    pid,
    signal: (signal) => process.kill(pid(), signal),
  };
}

export interface PipeUser {
  readonly user: string;
  readonly password: string;
}

/**
 * What the operator does before a consumer starts, with the admin client: the pipe's tables
 * (the product's own setup) and its ClickHouse user with the `destinationOnly` grants.
 */
export async function provisionPipe(admin: ClickHouseClient, pipe: ClickPipe): Promise<PipeUser> {
  const plugin = sourcePlugin(pipe.spec);
  if (plugin === undefined) throw new Error(`no plugin for ${JSON.stringify(Object.keys(pipe.spec.source))}`);
  const tables = plugin.tables(pipe.spec);
  const filesTable = plugin.capabilities(pipe.spec).filesTable === true;
  const outcomes = await createPipeTables(admin, pipeTableSpecs(pipe.spec, tables, { filesTable }));
  const failed = outcomes.find((o) => !o.ok);
  if (failed !== undefined) throw new Error(`setup failed: ${JSON.stringify(failed)}`);
  const user = pipeUserName(`${pipe.metadata.namespace ?? "default"}/${pipe.metadata.name}`);
  const password = randomBytes(12).toString("hex");
  const db = pipe.spec.destination.database;
  for (const sql of [createUserSql(user, password, db), setPasswordSql(user, password), ...grantsSql({ kind: "destinationOnly" }, db, tables, user, { filesTable, sourcePrivileges: plugin.sourcePrivileges?.(pipe.spec) ?? [] })]) {
    await admin.command({ query: sql });
  }
  return { user, password };
}

/**
 * `clickpipes consume` as a child process, as in a consumer pod: the resolved pipe in
 * CLICKPIPE_CONFIG_FILE (its ClickHouse credentials pointing at the pipe user's Secret) and
 * the Secrets as files under CLICKPIPE_SECRETS_DIR.
 */
export function startConsume(pipe: ClickPipe, user: PipeUser, extraSecrets: Record<string, Record<string, string>> = {}): Consumer {
  const dir = mkdtempSync(join(tmpdir(), "consume-"));
  const secretsDir = join(dir, "secrets");
  const secrets = { "pipe-user": { username: user.user, password: user.password }, ...extraSecrets };
  for (const [name, keys] of Object.entries(secrets)) {
    mkdirSync(join(secretsDir, name), { recursive: true });
    for (const [key, value] of Object.entries(keys)) writeFileSync(join(secretsDir, name, key), value);
  }
  const resolved = { ...pipe, spec: { ...pipe.spec, destination: { ...pipe.spec.destination, clickhouse: { ...pipe.spec.destination.clickhouse, credentialsSecretRef: { name: "pipe-user" } } } } };
  const config = join(dir, "pipe.json");
  writeFileSync(config, JSON.stringify(resolved));
  const logFile = join(dir, "consumer.log");
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), "consume"], {
    cwd: repoRoot,
    env: { ...process.env, CLICKPIPE_CONFIG_FILE: config, CLICKPIPE_SECRETS_DIR: secretsDir, CLICKPIPES_HTTP_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, logFile, exited, log: () => readFileSync(logFile, "utf8") };
}

/** A Kafka → ClickHouse ClickPipe object, as the operator would resolve it. */
export function kafkaPipe(env: StackEnv, o: { name: string; namespace?: string; database: string; table: string; topic: string; columns: readonly { name: string; type: string }[] }): ClickPipe {
  return parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name, namespace: o.namespace ?? "test", uid: randomBytes(8).toString("hex") },
    spec: {
      source: { kafka: { brokers: env.KAFKA_BROKERS, topics: o.topic } },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: o.database,
        table: o.table,
        managedTable: true,
        columns: o.columns,
      },
      settings: { streamingMaxInsertWaitTime: "1s" },
    },
  });
}
