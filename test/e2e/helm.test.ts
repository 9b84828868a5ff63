import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { operatorEnvSchema } from "../../src/operator/config.js";
import { SIZE_PRESETS } from "../../src/operator/desired.js";
import { repoRoot } from "../stack/env.js";
import { run, waitFor } from "../stack/process.js";
import { waitCrdEstablished } from "../helpers/crd-established.js";

/**
 * The Helm chart against the real apiserver: lint, render, server-side dry-run, then install,
 * a ClickPipe reconciled to Running by the operator pod the test kubelet runs from this
 * checkout, upgrade to two replicas (one leader), and uninstall.
 */
const env = inject("stackEnv");
const CHART = join(repoRoot, "charts/clickpipes-operator");
const RUN = `${Date.now().toString(36)}`;
const RELEASE = "cp-helm-e2e";
const NS = "cp-helm-e2e";
const PIPES_NS = "cp-helm-e2e-pipes";
const FULLNAME = `${RELEASE}-clickpipes-operator`;
const TOPIC = `helm-e2e-${RUN}`;
const TABLE = `helm_e2e_${RUN}`;
const PIPE = "helm-e2e";
const EVENTS = 20;

type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

/** Runs a stack tool; resolves with its stdout (tools may warn on stderr), rejects with both. */
function tool(name: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(env.STACK_BIN!, name), args, {
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG, PATH: `${env.STACK_BIN}:${process.env.PATH ?? ""}` },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} ${args.join(" ")} exited ${code}:\n${err}${out}`.slice(-4000)))));
    child.stdin.end(input ?? "");
  });
}
const kubectl = (args: string[], input?: string): Promise<string> => tool("kubectl", args, input);
const helm = (args: string[]): Promise<string> => tool("helm", args);

let kubeVersion = "";

async function template(...sets: string[]): Promise<Obj[]> {
  const out = await helm(["template", RELEASE, CHART, "--namespace", NS, "--kube-version", kubeVersion, ...sets.flatMap((s) => ["--set", s])]);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}

function find(objs: Obj[], kind: string, name?: string): Obj {
  const found = objs.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ""} in ${objs.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ")}`);
  return found;
}

interface Container {
  command: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
  ports: { containerPort: number }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: number } };
  readinessProbe: { httpGet: { path: string; port: number } };
}

function operatorContainer(objs: Obj[]): Container {
  const deployment = find(objs, "Deployment") as Obj & { spec: { template: { spec: { containers: Container[] } } } };
  return deployment.spec.template.spec.containers[0]!;
}

function envValue(c: Container, name: string): string | undefined {
  return c.env.find((e) => e.name === name)?.value;
}

async function jsonOf<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

async function exists(args: string[]): Promise<boolean> {
  try {
    await kubectl(["get", ...args]);
    return true;
  } catch (err) {
    if (String(err).includes("NotFound")) return false;
    throw err;
  }
}

beforeAll(async () => {
  const version = await jsonOf<{ serverVersion: { gitVersion: string } }>(["version"]);
  kubeVersion = version.serverVersion.gitVersion;
  const namespaces = [NS, PIPES_NS].map((name) => stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } })).join("---\n");
  await kubectl(["apply", "-f", "-"], namespaces);
});

describe("the chart, rendered", () => {
  it("passes helm lint in strict mode", async () => {
    const out = await helm(["lint", CHART, "--strict", "--kube-version", kubeVersion]);
    expect(out).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("renders the CRD from crds/, the one generated from the API schema", async () => {
    const objs = await template();
    const rendered = find(objs, "CustomResourceDefinition");
    const source = parse(readFileSync(join(repoRoot, "crds/clickpipes.io_clickpipes.yaml"), "utf8")) as Obj;
    const { labels, annotations, ...renderedMeta } = rendered.metadata ?? {};
    expect({ ...rendered, metadata: renderedMeta }).toEqual(source);
    expect(annotations?.["helm.sh/resource-policy"]).toBe("keep");
    expect(labels?.["app.kubernetes.io/managed-by"]).toBe("Helm");
  });

  it("runs the operator as a non-root user on a read-only root filesystem, probed on /healthz and /readyz", async () => {
    const c = operatorContainer(await template());
    expect(c.command).toEqual(["node", "/app/dist/src/cli/main.js"]);
    expect(c.args).toEqual(["operator"]);
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(c.ports.map((p) => p.containerPort)).toEqual([8080]);
    expect(envValue(c, "CLICKPIPES_HTTP_PORT")).toBe("8080");
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: 8080 });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: 8080 });
  });

  it("configures the operator only through variables its environment schema declares", async () => {
    const c = operatorContainer(await template());
    const declared = new Set(Object.keys(operatorEnvSchema.shape));
    for (const e of c.env) expect(declared, `env ${e.name}`).toContain(e.name);
    expect(() => operatorEnvSchema.parse(Object.fromEntries(c.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value])))).not.toThrow();
    expect(envValue(c, "CONSUMER_IMAGE")).toBe("ghcr.io/clickpipes-operator/clickpipes-operator:0.1.0");
    expect(envValue(c, "LEASE_NAMESPACE")).toBe(NS);
  });

  it("documents the operator's consumer size presets as the chart's defaults", async () => {
    const c = operatorContainer(await template());
    const sizes = JSON.parse(envValue(c, "CONSUMER_SIZE_PRESETS")!) as Record<string, unknown>;
    expect(sizes).toEqual(SIZE_PRESETS);
  });

  it("grants cluster-wide rights only when watching all namespaces", async () => {
    const all = await template();
    expect(all.map((o) => o.kind).sort()).toEqual(
      ["ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Deployment", "Role", "RoleBinding", "ServiceAccount"].sort(),
    );
    const some = await template("watchNamespaces={team-a,team-b}");
    expect(some.some((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toBe(false);
    const roles = some.filter((o) => o.kind === "Role" && o.metadata?.name === FULLNAME).map((o) => o.metadata?.namespace);
    expect(roles.sort()).toEqual(["team-a", "team-b"]);
    expect(envValue(operatorContainer(some), "WATCH_NAMESPACES")).toBe("team-a,team-b");
  });

  it("refuses two replicas without leader election, and values its schema does not know", async () => {
    await expect(template("replicaCount=2", "leaderElection.enabled=false")).rejects.toThrow(/needs leaderElection.enabled=true/);
    await expect(template("replicas=2")).rejects.toThrow(/additional properties 'replicas' not allowed/i);
    await expect(template("logLevel=loud")).rejects.toThrow(/logLevel/);
  });

  it("adds a metrics Service and ServiceMonitor on request", async () => {
    const objs = await template("metrics.serviceMonitor.enabled=true");
    expect(find(objs, "ServiceMonitor").apiVersion).toBe("monitoring.coreos.com/v1");
    find(objs, "Service", `${FULLNAME}-metrics`);
  });

  it("is accepted by the apiserver (server-side dry-run), cluster-wide and per namespace", async () => {
    for (const sets of [[], [`watchNamespaces={${PIPES_NS}}`]]) {
      const manifests = (await template(...sets)).map((o) => stringify(o)).join("---\n");
      const out = await kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager", "helm-e2e-dry-run", "--dry-run=server", "-f", "-"], manifests);
      expect(out).toContain(`deployment.apps/${FULLNAME} serverside-applied (server dry run)`);
    }
  });
});

describe("installed with helm", () => {
  let ch: ClickHouseClient;

  beforeAll(async () => {
    // The test kubelet runs pods from this checkout's dist/; `npm test` builds it first.
    if (!existsSync(join(repoRoot, "dist/src/cli/main.js"))) await run("npm", ["run", "-s", "build"], { cwd: repoRoot });
    ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
  });

  afterAll(async () => {
    // Leave nothing behind, even after a failure: a pipe whose finalizer no operator removes would block its namespace.
    if (await exists(["clickpipe", PIPE, "-n", PIPES_NS]).catch(() => false)) {
      await kubectl(["patch", "clickpipe", PIPE, "-n", PIPES_NS, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']).catch(() => "");
      await kubectl(["delete", "clickpipe", PIPE, "-n", PIPES_NS, "--wait=false"]).catch(() => "");
    }
    await helm(["uninstall", RELEASE, "--namespace", NS, "--wait"]).catch(() => "");
    await ch.command({ query: `DROP TABLE IF EXISTS default.${TABLE}` }).catch(() => undefined);
    await ch.command({ query: `DROP TABLE IF EXISTS default.${TABLE}_clickpipes_error` }).catch(() => undefined);
    await ch.close();
  });

  async function install(...sets: string[]): Promise<void> {
    await helm([
      "upgrade", "--install", RELEASE, CHART, "--namespace", NS, "--take-ownership",
      "--set", "image.repository=clickpipes-operator", "--set", "image.tag=e2e",
      "--set", `watchNamespaces={${PIPES_NS}}`, "--set", "resyncSeconds=5",
      ...sets.flatMap((s) => ["--set", s]),
      "--wait", "--timeout", "4m",
    ]);
    // Helm does not wait for a templated CRD to be served; pipes are applied right after.
    await waitCrdEstablished(kubectl);
  }

  async function readyReplicas(): Promise<number> {
    const d = await jsonOf<{ status: { readyReplicas?: number } }>(["get", "deployment", FULLNAME, "-n", NS]);
    return d.status.readyReplicas ?? 0;
  }

  async function produce(): Promise<void> {
    const kafka = new Kafka({ clientId: "helm-e2e", brokers: env.KAFKA_BROKERS!.split(","), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, messages: Array.from({ length: EVENTS }, (_, i) => ({ value: JSON.stringify({ id: i, name: `n${i}` }) })) });
    await producer.disconnect();
  }

  /** Distinct events in the table (delivery is at-least-once, so a consumer restart may repeat a batch). */
  async function rows(): Promise<number> {
    const rs = await ch.query({ query: `SELECT uniqExact(id) AS n FROM default.${TABLE}`, format: "JSONEachRow" });
    return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
  }

  async function phase(): Promise<string | undefined> {
    return (await jsonOf<{ status?: { phase?: string } }>(["get", "clickpipe", PIPE, "-n", PIPES_NS])).status?.phase;
  }

  it("installs, and the operator pod reconciles a ClickPipe to Running", async () => {
    await install();
    // helm --wait can return before the Deployment's status catches up; the pods decide.
    await waitFor("1 ready operator replica", async () => (await readyReplicas()) === 1, 120_000, 1000);
    expect(await exists(["role", FULLNAME, "-n", PIPES_NS])).toBe(true);

    await produce();
    const manifests = [
      { apiVersion: "v1", kind: "Secret", metadata: { name: "helm-e2e-clickhouse", namespace: PIPES_NS }, stringData: { username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD } },
      {
        apiVersion: "clickpipes.io/v1alpha1",
        kind: "ClickPipe",
        metadata: { name: PIPE, namespace: PIPES_NS },
        spec: {
          source: { kafka: { brokers: env.KAFKA_BROKERS, topics: TOPIC, format: "JSONEachRow" } },
          destination: {
            clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "helm-e2e-clickhouse" } },
            database: "default",
            table: TABLE,
            columns: [
              { name: "id", type: "UInt64" },
              { name: "name", type: "String" },
            ],
            tableDefinition: { sortingKey: ["id"] },
          },
          scaling: { replicas: 1, size: "XS" },
          settings: { streamingMaxInsertWaitTime: "1s" },
        },
      },
    ];
    await kubectl(["apply", "-f", "-"], manifests.map((m) => stringify(m)).join("---\n"));
    await waitFor(`ClickPipe ${PIPE} Running with all ${EVENTS} events in ClickHouse`, async () => (await phase()) === "Running" && (await rows()) >= EVENTS, 240_000, 2000);
    expect(await rows()).toBe(EVENTS);

    // GitOps: only our `kubectl apply` owns spec fields; the operator writes status and its finalizer.
    const pipe = await jsonOf<{ metadata: { managedFields: { manager: string; subresource?: string; fieldsV1?: Record<string, unknown> }[] } }>(["get", "clickpipe", PIPE, "-n", PIPES_NS, "--show-managed-fields"]);
    const specWriters = pipe.metadata.managedFields.filter((f) => f.fieldsV1 !== undefined && "f:spec" in f.fieldsV1).map((f) => f.manager);
    expect(specWriters).toEqual(["kubectl-client-side-apply"]);
  }, 600_000);

  it("upgrades to two operator replicas, one of them leading", async () => {
    await install("replicaCount=2");
    await waitFor("2 ready operator replicas", async () => (await readyReplicas()) === 2, 180_000, 1000);
    const pods = await jsonOf<{ items: { metadata: { name: string } }[] }>(["get", "pods", "-n", NS, "-l", `app.kubernetes.io/instance=${RELEASE}`]);
    const names = pods.items.map((p) => p.metadata.name);
    await waitFor("a Lease held by one of the operator pods", async () => {
      const lease = await jsonOf<{ spec: { holderIdentity?: string } }>(["get", "lease", "clickpipes-operator", "-n", NS]);
      return names.includes(lease.spec.holderIdentity ?? "");
    }, 60_000, 1000);
    expect(await phase()).toBe("Running");
  }, 400_000);

  it("deletes the pipe's consumers with the pipe, and uninstalls keeping the CRD", async () => {
    await kubectl(["delete", "clickpipe", PIPE, "-n", PIPES_NS, "--wait=true", "--timeout=120s"]);
    await waitFor("the consumer Deployment to be garbage-collected", async () => !(await exists(["deployment", PIPE, "-n", PIPES_NS])), 120_000, 1000);
    await helm(["uninstall", RELEASE, "--namespace", NS, "--wait"]);
    expect(await exists(["deployment", FULLNAME, "-n", NS])).toBe(false);
    expect(await exists(["role", FULLNAME, "-n", PIPES_NS])).toBe(false);
    expect(await exists(["crd", "clickpipes.clickpipes.io"])).toBe(true);
  });
});
