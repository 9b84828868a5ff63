/**
 * `npm run demo`: one ClickPipe ingesting from Kafka into ClickHouse on the local stack.
 *
 * Brings up the stack (Kafka, ClickHouse engine, Kubernetes control plane, test kubelet),
 * builds, installs the operator with its Helm chart (the test kubelet runs the operator pod
 * and the consumer pods as local processes), applies examples/kafka-json.yaml pointed at the
 * local stack, produces sample events (a few malformed), waits for the rows, and prints the
 * pipe, the row count and the error table. Set DEMO_OPERATOR=local to run the operator as a
 * plain local process instead of through the chart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { Kafka, logLevel } from "kafkajs";
import { parseAllDocuments, stringify } from "yaml";
import { repoRoot, stateDir, type StackEnv } from "../test/stack/env.js";
import { up } from "../test/stack/stack.js";

const NAMESPACE = "clickpipes-demo";
const DATABASE = "clickpipes_demo";
const TOPIC = "clickpipes-demo-events";
const RELEASE = "clickpipes-operator";
const RELEASE_NAMESPACE = "clickpipes-system";
const GOOD_EVENTS = 1000;
const MALFORMED_EVENTS = ["{\"id\": 1, oops", "not json at all", "[1, 2, 3"];
const WAIT_MS = 5 * 60_000;

const t0 = Date.now();
let step = 0;
const STEPS = 7;

function elapsed(): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)}s`;
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

function begin(title: string): void {
  step += 1;
  say(`\n[${step}/${STEPS}] ${title}  (${elapsed()})`);
}

function detail(message: string): void {
  say(`      ${message}`);
}

type Manifest = Record<string, unknown> & { kind?: string; metadata?: Record<string, unknown>; spec?: Record<string, unknown> };

interface Column {
  name: string;
  type: string;
}

interface FieldMapping {
  sourceField: string;
  destinationField: string;
}

interface DemoPipe {
  manifests: Manifest[];
  name: string;
  table: string;
  columns: Column[];
  fieldMappings: FieldMapping[];
}

/** Runs a command with the stack's tools on PATH, streaming nothing; rejects with its output. */
function exec(env: StackEnv, cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG, PATH: `${env.STACK_BIN}:${process.env.PATH ?? ""}` },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${out.slice(-3000)}`))));
    child.stdin.end(input ?? "");
  });
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Points the example's Kafka source and ClickHouse destination at the local stack, in place; returns the Secrets no longer used. */
function pointAtStack(env: StackEnv, source: Record<string, unknown>, destination: Record<string, unknown>): Set<string> {
  const unused = new Set(["credentialsSecretRef", "caCertificateSecretRef", "clientCertificateSecretRef"].map((k) => str(record(source[k]).name)));
  // The stack's plaintext listener needs no credentials: drop whatever the example authenticates with.
  for (const key of ["authentication", "credentialsSecretRef", "caCertificateSecretRef", "clientCertificateSecretRef", "tls", "iamRole"]) {
    Reflect.deleteProperty(source, key);
  }
  source.brokers = env.KAFKA_BROKERS;
  source.topics = TOPIC;
  source.consumerGroup = "clickpipes-demo-events";
  source.offset = { strategy: "from_beginning" };
  record(destination.clickhouse).url = env.CLICKHOUSE_URL;
  destination.database = DATABASE;
  return unused;
}

/** examples/kafka-json.yaml, pointed at the local stack's Kafka and ClickHouse (the file itself stays untouched). */
function demoPipe(env: StackEnv): DemoPipe {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, "examples/kafka-json.yaml"), "utf8")).map((d) => d.toJS() as Manifest);
  const pipe = docs.find((d) => d.kind === "ClickPipe");
  if (!pipe?.spec) throw new Error("examples/kafka-json.yaml has no ClickPipe");
  const destination = record(pipe.spec.destination);
  const chSecret = str(record(record(destination.clickhouse).credentialsSecretRef).name);
  const unused = pointAtStack(env, record(record(pipe.spec.source).kafka), destination);
  const credentials = { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD };
  const manifests: Manifest[] = docs
    // Kafka Secrets are not needed; the ClickHouse one is replaced with the stack's credentials.
    .filter((doc) => !(doc.kind === "Secret" && (unused.has(str(doc.metadata?.name)) || str(doc.metadata?.name) === chSecret)))
    .map((doc) => ({ ...doc, metadata: { ...doc.metadata, namespace: NAMESPACE } }));
  manifests.unshift({ apiVersion: "v1", kind: "Secret", metadata: { name: chSecret, namespace: NAMESPACE }, stringData: credentials });
  return {
    manifests,
    name: str(pipe.metadata?.name),
    table: str(destination.table),
    columns: (destination.columns as Column[] | undefined) ?? [],
    fieldMappings: (pipe.spec.fieldMappings as FieldMapping[] | undefined) ?? [],
  };
}

function sampleValue(type: string, i: number): unknown {
  const t = type.replace(/^(Nullable|LowCardinality)\((.*)\)$/, "$2");
  if (/^U?Int(8|16|32)$/.test(t)) return i % 100;
  if (/^U?Int(64|128|256)$/.test(t)) return i;
  if (/^(Float|Decimal)/.test(t)) return i / 10;
  if (/^Bool/.test(t)) return i % 2 === 0;
  if (/^DateTime|^Date/.test(t)) return new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().replace("T", " ").replace("Z", "");
  if (/^Array/.test(t)) return [];
  if (/^Map/.test(t)) return {};
  return `event-${i}`;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] = record(node[part]);
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) ?? path] = value;
}

/** One JSON event shaped so that the example's columns and field mappings all find a value. */
function sampleEvent(pipe: DemoPipe, i: number): string {
  const event: Record<string, unknown> = {};
  for (const column of pipe.columns) {
    if (column.name.startsWith("_")) continue;
    const mapping = pipe.fieldMappings.find((m) => m.destinationField === column.name);
    setPath(event, mapping?.sourceField ?? column.name, sampleValue(column.type, i));
  }
  return JSON.stringify(event);
}

async function produce(env: StackEnv, pipe: DemoPipe): Promise<void> {
  const kafka = new Kafka({ clientId: "clickpipes-demo", brokers: env.KAFKA_BROKERS!.split(","), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const good = Array.from({ length: GOOD_EVENTS }, (_, i) => ({ value: sampleEvent(pipe, i) }));
  await producer.send({ topic: TOPIC, messages: [...good.slice(0, 500), ...MALFORMED_EVENTS.map((value) => ({ value })), ...good.slice(500)] });
  await producer.disconnect();
  detail(`sent ${GOOD_EVENTS} JSON events and ${MALFORMED_EVENTS.length} malformed ones to topic ${TOPIC}, e.g.`);
  detail(`  ${good[0]?.value}`);
}

async function count(ch: ClickHouseClient, table: string): Promise<number> {
  const rs = await ch.query({ query: `SELECT count() AS n FROM ${DATABASE}.${table}`, format: "JSONEachRow" });
  const rows = await rs.json<{ n: string | number }>();
  return Number(rows[0]?.n ?? 0);
}

async function tableExists(ch: ClickHouseClient, table: string): Promise<boolean> {
  const rs = await ch.query({
    query: "SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}",
    query_params: { db: DATABASE, t: table },
    format: "JSONEachRow",
  });
  return Number((await rs.json<{ n: string | number }>())[0]?.n ?? 0) > 0;
}

async function countOrZero(ch: ClickHouseClient, table: string): Promise<number> {
  return (await tableExists(ch, table)) ? count(ch, table) : 0;
}

interface PipeStatus {
  phase: string;
  rows: number;
  errors: number;
}

/** What `kubectl get cp` shows: phase and the operator's row and error totals (zero before the pipe exists). */
async function pipeStatus(env: StackEnv, name: string): Promise<PipeStatus> {
  const out = await exec(env, "kubectl", ["-n", NAMESPACE, "get", "clickpipe", name, "--ignore-not-found", "-o", "json"]);
  const status = record(record(out.trim() ? JSON.parse(out) : {}).status);
  return {
    phase: str(status.phase) || "(no status yet)",
    rows: Number(record(status.ingested).rows ?? 0),
    errors: Number(record(status.errors).records ?? 0),
  };
}

interface Baseline {
  tableRows: number;
  status: Pick<PipeStatus, "rows" | "errors">;
}

/**
 * The pipe's totals so far, from the state table the operator reads them from (docs/design/contracts.md):
 * they outlive a deleted and re-created pipe, so the status counts from there, not from zero.
 */
async function stateTotals(ch: ClickHouseClient, pipe: DemoPipe): Promise<Pick<PipeStatus, "rows" | "errors">> {
  if (!(await tableExists(ch, "clickpipes_state"))) return { rows: 0, errors: 0 };
  const rs = await ch.query({
    query: `SELECT sum(rows) AS rows, sum(record_errors) AS errors FROM ${DATABASE}.clickpipes_state WHERE pipe = {pipe:String}`,
    query_params: { pipe: `${NAMESPACE}/${pipe.name}` },
    format: "JSONEachRow",
  });
  const row = (await rs.json<{ rows: string | number; errors: string | number }>())[0];
  return { rows: Number(row?.rows ?? 0), errors: Number(row?.errors ?? 0) };
}

/** Waits until ClickHouse has the new rows and the pipe's status (what `kubectl get cp` prints) counts them and the bad records. */
async function waitForRows(env: StackEnv, ch: ClickHouseClient, pipe: DemoPipe, before: Baseline): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  const target = before.tableRows + GOOD_EVENTS;
  let lastLine = "";
  for (;;) {
    const status = await pipeStatus(env, pipe.name).catch(() => ({ phase: "(unknown)", rows: 0, errors: 0 }));
    const rows = await countOrZero(ch, pipe.table).catch(() => 0);
    const errors = await countOrZero(ch, `${pipe.table}_clickpipes_error`).catch(() => 0);
    const line = `phase ${status.phase}; ClickHouse: ${rows}/${target} rows, ${errors} error rows; status: ${status.rows} rows, ${status.errors} errors`;
    if (line !== lastLine) detail(`${elapsed()}  ${line}`);
    lastLine = line;
    const counted = status.rows >= before.status.rows + GOOD_EVENTS && status.errors >= before.status.errors + MALFORMED_EVENTS.length;
    if (status.phase === "Running" && rows >= target && counted) return;
    if (Date.now() > deadline) {
      throw new Error(`the pipe did not ingest the events within ${WAIT_MS / 60_000} min (${line}); see \`kubectl -n ${NAMESPACE} describe cp ${pipe.name}\``);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function installOperator(env: StackEnv): Promise<ChildProcess | undefined> {
  await exec(env, "kubectl", ["apply", "-f", "-"], stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } }));
  if (process.env.DEMO_OPERATOR === "local") {
    await exec(env, "kubectl", ["apply", "--server-side", "--force-conflicts", "-f", "crds/clickpipes.io_clickpipes.yaml"]);
    mkdirSync(join(stateDir, "logs"), { recursive: true });
    const log = join(stateDir, "logs", "demo-operator.log");
    const fd = openSync(log, "a");
    const child = spawn(process.execPath, ["dist/src/cli/main.js", "operator"], {
      cwd: repoRoot,
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG, WATCH_NAMESPACES: NAMESPACE, LEADER_ELECT: "false", CLICKPIPES_HTTP_PORT: "0", CONSUMER_IMAGE: "clickpipes-operator:dev" },
      stdio: ["ignore", fd, fd],
    });
    detail(`CRD applied; operator running as local process ${child.pid} (log: ${log})`);
    return child;
  }
  const out = await exec(env, "helm", [
    "upgrade", "--install", RELEASE, "charts/clickpipes-operator",
    "--namespace", RELEASE_NAMESPACE, "--create-namespace",
    // The CRD may already be in the cluster (applied by hand or by another release): adopt it.
    "--take-ownership",
    "--set", "image.repository=clickpipes-operator", "--set", "image.tag=dev",
    // Only the demo's namespace (a Role there, no cluster-wide rights), so the demo leaves other pipes alone.
    "--set", `watchNamespaces={${NAMESPACE}}`,
    "--set", "resyncSeconds=5",
    "--wait", "--timeout", "5m",
  ]);
  // Helm does not wait for a templated CRD to be served; the pipe is applied right after.
  await exec(env, "kubectl", ["wait", "--for=condition=Established", "crd/clickpipes.clickpipes.io", "--timeout=60s"]);
  detail(out.split("\n").find((l) => l.startsWith("STATUS")) ?? "installed");
  detail(`the test kubelet runs the operator pod from this checkout (pod logs under ${env.KUBELET_PODS_LOG_DIR ?? ".stack/"})`);
  return undefined;
}

/** Rows as an aligned text table. */
function table(rows: Record<string, string>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const width = (c: string): number => Math.max(c.length, ...rows.map((r) => String(r[c]).length));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(width(columns[i] ?? ""))).join("  ");
  return [line(columns), ...rows.map((r) => line(columns.map((c) => String(r[c]))))].join("\n");
}

function stopHint(env: StackEnv, local: boolean): string {
  return [
    local ? "The stack keeps running so you can look around:" : "The stack, the operator and the pipe keep running so you can look around:",
    `  export KUBECONFIG=${env.KUBECONFIG} PATH="${env.STACK_BIN}:$PATH"`,
    `  kubectl -n ${NAMESPACE} get cp -w`,
    local
      ? `  (the local operator stopped with the demo: to delete the pipe, run the demo without DEMO_OPERATOR=local, then kubectl -n ${NAMESPACE} delete cp --all)`
      : `  kubectl -n ${NAMESPACE} delete cp --all; helm -n ${RELEASE_NAMESPACE} uninstall ${RELEASE}   # remove the pipe, then the operator`,
    "  npm run stack -- down   # stop the whole local stack",
  ]
    .filter(Boolean)
    .join("\n");
}

async function main(): Promise<void> {
  say("ClickPipes demo: Kafka -> ClickHouse through a ClickPipe on a local Kubernetes. Ctrl-C stops the demo (not the stack).");
  begin("Starting the local stack: Kafka, ClickHouse, kube-apiserver, test kubelet (first run builds them: many minutes)");
  const env = await up(["kafka", "clickhouse", "kube", "kubelet"]);
  begin("Building the TypeScript (npm run build)");
  await exec(env, "npm", ["run", "-s", "build"]);
  begin(process.env.DEMO_OPERATOR === "local" ? "Installing the CRD and starting the operator" : "Installing the operator with its Helm chart (CRD, RBAC, Deployment)");
  const operator = await installOperator(env);
  try {
    begin("Applying examples/kafka-json.yaml, pointed at the local Kafka and ClickHouse");
    const pipe = demoPipe(env);
    const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
    await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${DATABASE}` });
    const before: Baseline = { tableRows: await countOrZero(ch, pipe.table), status: await stateTotals(ch, pipe) };
    const applied = await exec(env, "kubectl", ["apply", "--server-side", "--force-conflicts", "-f", "-"], pipe.manifests.map((m) => stringify(m)).join("---\n"));
    for (const line of applied.trim().split("\n")) detail(line);
    begin("Producing sample events");
    await produce(env, pipe);
    begin("Waiting for the pipe to ingest them");
    await waitForRows(env, ch, pipe, before);
    begin("Result");
    say(`\n$ kubectl -n ${NAMESPACE} get cp`);
    say((await exec(env, "kubectl", ["-n", NAMESPACE, "get", "cp"])).trimEnd());
    say(`\n$ SELECT count() FROM ${DATABASE}.${pipe.table}`);
    say(String(await count(ch, pipe.table)));
    say(`\n$ SELECT error_type, message, raw_message, source_position FROM ${DATABASE}.${pipe.table}_clickpipes_error ORDER BY time DESC LIMIT 5`);
    const rs = await ch.query({
      query: `SELECT error_type, substring(message, 1, 70) AS message, raw_message, source_position FROM ${DATABASE}.${pipe.table}_clickpipes_error ORDER BY time DESC LIMIT 5`,
      format: "JSONEachRow",
    });
    say(table(await rs.json<Record<string, string>>()));
    await ch.close();
    say(`\nDone in ${elapsed()}.`);
    say(stopHint(env, operator !== undefined));
  } finally {
    if (operator) {
      operator.kill("SIGTERM");
      detail("stopped the local operator process");
    }
  }
}

process.on("SIGINT", () => {
  say(`\nInterrupted after ${elapsed()}. The stack keeps running; \`npm run stack -- down\` stops it.`);
  process.exit(130);
});

main().catch((err: unknown) => {
  process.stderr.write(`\ndemo failed after ${elapsed()}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
