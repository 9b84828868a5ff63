import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { repoRoot } from "../stack/env.js";
import { run } from "../stack/process.js";
import { waitCrdEstablished } from "../helpers/crd-established.js";

/**
 * The real control plane with the ClickPipe CRD: the apiserver, not our code, validates
 * and defaults ClickPipes, and serves the scale subresource.
 */

const env = inject("stackEnv");
const kubectlBin = join(env.STACK_BIN ?? "", "kubectl");
const namespace = `kube-stack-${process.pid}-${Date.now() % 100000}`;
const crdFile = join(repoRoot, "crds", "clickpipes.io_clickpipes.yaml");

function kubectl(args: string[], input?: string): Promise<string> {
  return run(kubectlBin, args, { env: { KUBECONFIG: env.KUBECONFIG }, input });
}

/** kubectl's combined output when it fails; the test asserts on the apiserver's message. */
async function kubectlFailure(args: string[], input?: string): Promise<string> {
  try {
    await kubectl(args, input);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error(`kubectl ${args.join(" ")} succeeded but should have failed`);
}

type Doc = Record<string, unknown> & { kind?: string; metadata?: Record<string, unknown>; spec?: Record<string, unknown> };

function exampleDocs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(repoRoot, "examples", file), "utf8")).map((d) => d.toJSON() as Doc);
}

function examplePipe(): Doc {
  const pipe = exampleDocs("kafka-json.yaml").find((d) => d.kind === "ClickPipe");
  if (!pipe) throw new Error("examples/kafka-json.yaml has no ClickPipe");
  return structuredClone(pipe);
}

function kafkaOf(pipe: Doc): Record<string, unknown> {
  return (pipe.spec?.source as { kafka: Record<string, unknown> }).kafka;
}

beforeAll(async () => {
  await kubectl(["apply", "--server-side", "--force-conflicts", "-f", crdFile]);
  await waitCrdEstablished(kubectl);
  await kubectl(["create", "namespace", namespace]);
}, 120_000);

afterAll(async () => {
  await kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
});

describe("ClickPipe CRD on a real kube-apiserver", () => {
  it("is Established with a structural schema", async () => {
    const crd = JSON.parse(await kubectl(["get", "crd", "clickpipes.clickpipes.io", "-o", "json"])) as {
      status: { conditions: Array<{ type: string; status: string; message?: string }> };
    };
    const conditions = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c]));
    expect(conditions.Established?.status).toBe("True");
    expect(conditions.NamesAccepted?.status).toBe("True");
    expect(conditions.NonStructuralSchema, conditions.NonStructuralSchema?.message).toBeUndefined();
    const resources = await kubectl(["api-resources", "--api-group=clickpipes.io", "-o", "name"]);
    expect(resources).toContain("clickpipes.clickpipes.io");
  });

  it("rejects an invalid ClickPipe with the field path in the message", async () => {
    const pipe = examplePipe();
    pipe.metadata = { name: "bad-state", namespace };
    pipe.spec = { ...pipe.spec, state: "Sideways" };
    const enumError = await kubectlFailure(["create", "-f", "-"], stringify(pipe));
    expect(enumError).toMatch(/spec\.state: Unsupported value: "Sideways"/);

    const cel = examplePipe();
    cel.metadata = { name: "bad-offset", namespace };
    kafkaOf(cel).offset = { strategy: "from_timestamp" };
    const celError = await kubectlFailure(["create", "-f", "-"], stringify(cel));
    expect(celError).toContain("spec.source.kafka.offset");
    expect(celError).toContain("timestamp");

    const notFound = await kubectlFailure(["get", "clickpipe", "bad-state", "bad-offset", "-n", namespace]);
    expect(notFound).toContain("NotFound");
  });

  it("accepts the kafka-json example and fills the schema's defaults", async () => {
    const pipe = examplePipe();
    pipe.metadata = { name: "events", namespace };
    delete pipe.spec?.state;
    const kafka = kafkaOf(pipe);
    delete kafka.type;
    delete kafka.format;
    delete kafka.offset;
    await kubectl(["create", "-f", "-"], stringify(pipe));

    const stored = JSON.parse(await kubectl(["get", "cp", "events", "-n", namespace, "-o", "json"])) as Doc;
    expect(stored.spec?.state).toBe("Running");
    expect(kafkaOf(stored)).toMatchObject({ type: "kafka", format: "JSONEachRow", offset: { strategy: "from_beginning" }, topics: "events" });
    expect(stored.spec?.scaling).toMatchObject({ replicas: 2 });
  });

  it("moves spec.scaling.replicas through the scale subresource (kubectl scale cp)", async () => {
    const pipe = examplePipe();
    pipe.metadata = { name: "scaled", namespace };
    await kubectl(["create", "-f", "-"], stringify(pipe));

    const out = await kubectl(["scale", "cp/scaled", "--replicas=3", "-n", namespace]);
    expect(out).toContain("scaled");
    const replicas = await kubectl(["get", "cp", "scaled", "-n", namespace, "-o", "jsonpath={.spec.scaling.replicas}"]);
    expect(replicas).toBe("3");
    const scale = JSON.parse(await kubectl(["get", "--raw", `/apis/clickpipes.io/v1alpha1/namespaces/${namespace}/clickpipes/scaled/scale`])) as {
      kind: string;
      spec: { replicas: number };
    };
    expect(scale).toMatchObject({ kind: "Scale", spec: { replicas: 3 } });
  });

  it("reports the pinned Kubernetes version (helm's kubeVersion checks rely on it)", async () => {
    const version = JSON.parse(await kubectl(["version", "-o", "json"])) as { serverVersion: { gitVersion: string }; clientVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(env.KUBE_VERSION);
    expect(version.clientVersion.gitVersion).toBe(env.KUBE_VERSION);
    const helm = join(env.STACK_BIN ?? "", "helm");
    expect(await run(helm, ["version", "--short"])).toMatch(/^v3\./);
    // Built with the chartutil ldflags, helm assumes the stack's Kubernetes, not 1.20.
    const chart = mkdtempSync(join(tmpdir(), "kube-stack-chart-"));
    try {
      writeFileSync(join(chart, "Chart.yaml"), "apiVersion: v2\nname: probe\nversion: 0.1.0\nkubeVersion: '>=1.36.0-0'\n");
      mkdirSync(join(chart, "templates"));
      writeFileSync(join(chart, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: probe }\ndata: { kube: '{{ .Capabilities.KubeVersion.Version }}' }\n");
      expect(await run(helm, ["template", "probe", chart])).toContain("kube: 'v1.36");
    } finally {
      rmSync(chart, { recursive: true, force: true });
    }
  });
});
