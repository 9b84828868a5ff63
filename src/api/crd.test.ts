import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { clickPipeCrd, clickPipeCrdYaml } from "./crd.js";
import { parseClickPipe } from "./clickpipe.js";
import type { OpenApiSchema } from "./structural.js";

const crd = clickPipeCrd() as { spec: { versions: { schema: { openAPIV3Schema: OpenApiSchema } }[] } & OpenApiSchema };
const version = crd.spec.versions[0]! as unknown as Record<string, unknown> & { schema: { openAPIV3Schema: OpenApiSchema } };
const root = version.schema.openAPIV3Schema;

type Node = OpenApiSchema;
const FORBIDDEN = ["$ref", "$schema", "oneOf", "allOf", "not", "const", "nullable", "propertyNames", "exclusiveMinimum", "exclusiveMaximum"];

/** The structural-schema rules of kube-apiserver, as far as they apply to what we generate. */
function structuralViolations(node: Node, path: string, out: string[]): string[] {
  for (const key of FORBIDDEN) if (key in node) out.push(`${path}: has ${key}`);
  const intOrString = node["x-kubernetes-int-or-string"] === true;
  if (intOrString) {
    expect(node["anyOf"], path).toEqual([{ type: "integer" }, { type: "string" }]);
    if ("type" in node) out.push(`${path}: int-or-string with a type`);
  } else {
    if (typeof node["type"] !== "string") out.push(`${path}: no type`);
    if ("anyOf" in node) out.push(`${path}: anyOf without int-or-string`);
  }
  if ("properties" in node && "additionalProperties" in node) out.push(`${path}: properties and additionalProperties`);
  if (node["type"] === "array" && typeof node["items"] !== "object") out.push(`${path}: array without items`);
  for (const [key, child] of Object.entries((node["properties"] ?? {}) as Record<string, Node>)) {
    structuralViolations(child, `${path}.${key}`, out);
  }
  if (typeof node["items"] === "object") structuralViolations(node["items"] as Node, `${path}[]`, out);
  if (typeof node["additionalProperties"] === "object") structuralViolations(node["additionalProperties"] as Node, `${path}.*`, out);
  return out;
}

/** What the apiserver does on create: fill in defaults top-down, recursing into defaulted objects. */
function applyDefaults(value: unknown, node: Node): unknown {
  if (Array.isArray(value) && typeof node["items"] === "object") return value.map((item) => applyDefaults(item, node["items"] as Node));
  if (typeof value !== "object" || value === null) return value;
  const out = { ...(value as Record<string, unknown>) };
  for (const [key, child] of Object.entries((node["properties"] ?? {}) as Record<string, Node>)) {
    if (out[key] === undefined && child["default"] !== undefined) out[key] = structuredClone(child["default"]);
    if (out[key] !== undefined) out[key] = applyDefaults(out[key], child);
  }
  return out;
}

function nodeAt(path: string): Node {
  return path.split(".").reduce<Node>((node, key) => (node["properties"] as Record<string, Node>)[key]!, root);
}

describe("ClickPipe CRD", () => {
  it("names the API as the architecture fixes it", () => {
    expect(crd).toMatchObject({
      metadata: { name: "clickpipes.clickpipes.io" },
      spec: { group: "clickpipes.io", scope: "Namespaced", names: { kind: "ClickPipe", plural: "clickpipes", shortNames: ["cp"] } },
    });
    expect(version).toMatchObject({ name: "v1alpha1", served: true, storage: true });
  });

  it("has status and scale subresources wired to the spec and status fields", () => {
    expect(version["subresources"]).toEqual({
      status: {},
      scale: { specReplicasPath: ".spec.scaling.replicas", statusReplicasPath: ".status.replicas.ready", labelSelectorPath: ".status.selector" },
    });
    expect(nodeAt("spec.scaling.replicas")).toMatchObject({ type: "integer", minimum: 0, maximum: 10, default: 1 });
    expect(nodeAt("status.selector")).toMatchObject({ type: "string" });
  });

  it("prints Phase, Replicas, Rows, Errors and Age", () => {
    const columns = version["additionalPrinterColumns"] as { name: string; jsonPath: string }[];
    expect(columns.map((c) => c.name)).toEqual(["Phase", "Replicas", "Rows", "Errors", "Age"]);
  });

  it("is a structural schema", () => {
    expect(structuralViolations(root, "", [])).toEqual([]);
  });

  it("documents every spec and status field", () => {
    const missing: string[] = [];
    const walk = (node: Node, path: string): void => {
      for (const [key, child] of Object.entries((node["properties"] ?? {}) as Record<string, Node>)) {
        if (path.startsWith("spec") || path.startsWith("status") || key === "spec" || key === "status") {
          if (typeof child["description"] !== "string") missing.push(`${path}.${key}`);
        }
        walk(child, `${path}.${key}`.replace(/^\./, ""));
        if (typeof child["items"] === "object") walk(child["items"] as Node, `${path}.${key}[]`.replace(/^\./, ""));
      }
    };
    walk(root, "");
    expect(missing).toEqual([]);
  });

  it("expresses 'exactly one source' as a CEL rule with a message naming the field", () => {
    expect(nodeAt("spec.source")["x-kubernetes-validations"]).toEqual([
      {
        rule: "(has(self.kafka) ? 1 : 0) + (has(self.kinesis) ? 1 : 0) + (has(self.objectStorage) ? 1 : 0) + (has(self.postgres) ? 1 : 0) + (has(self.mysql) ? 1 : 0) + (has(self.mongodb) ? 1 : 0) + (has(self.bigquery) ? 1 : 0) == 1",
        message: "must set exactly one source kind (one of kafka, kinesis, objectStorage, postgres, mysql, mongodb, bigquery)",
      },
    ]);
  });

  it("applies the same defaults as parseClickPipe, so the operator never has to write spec", () => {
    const examples = ["kafka-json", "kafka-avro-registry", "kafka-scram-tls", "kinesis", "s3", "postgres-cdc", "mysql-cdc"];
    for (const example of examples) {
      const text = readFileSync(fileURLToPath(new URL(`../../examples/${example}.yaml`, import.meta.url)), "utf8");
      const manifest = text
        .split(/^---$/m)
        .map((doc) => parse(doc) as Record<string, unknown>)
        .find((doc) => doc["kind"] === "ClickPipe")!;
      expect(applyDefaults(manifest, root), example).toEqual(parseClickPipe(manifest));
    }
  });

  it("is checked in up to date under crds/", () => {
    const checkedIn = readFileSync(fileURLToPath(new URL("../../crds/clickpipes.io_clickpipes.yaml", import.meta.url)), "utf8");
    expect(checkedIn, "run `npm run crd:generate`").toBe(clickPipeCrdYaml());
  });
});
