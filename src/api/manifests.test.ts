import { describe, expect, it } from "vitest";
import { loadManifests, validateManifestText } from "./manifests.js";

const pipe = `apiVersion: clickpipes.io/v1alpha1
kind: ClickPipe
metadata: { name: events }
spec:
  source: { kafka: { brokers: "b:9092", topics: events } }
  destination:
    clickhouse: { url: "http://ch:8123", credentialsSecretRef: { name: ch } }
    table: events
    columns: [ { name: id, type: UInt64 } ]
`;

describe("manifest files", () => {
  it("collects Secrets from stringData and base64 data for `run`", () => {
    const text = `apiVersion: v1
kind: Secret
metadata: { name: ch }
data: { username: ${Buffer.from("default").toString("base64")} }
stringData: { password: pw }
---
${pipe}`;
    const loaded = loadManifests(text);
    expect(loaded.problems).toEqual([]);
    expect(loaded.pipes.map((p) => p.document)).toEqual([2]);
    expect(Object.fromEntries(loaded.secrets.get("ch") ?? [])).toEqual({ username: "default", password: "pw" });
  });

  it("numbers documents from 1 and ignores other kinds", () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n---\n${pipe}---\n${pipe.replace("b:9092", "")}`;
    expect(validateManifestText(text, "f.yaml")).toEqual([
      'f.yaml:3 spec.source.kafka.brokers: "" is not valid (a comma-separated list of host:port, e.g. broker-1:9092,broker-2:9092)',
    ]);
  });

  it("reports YAML syntax errors and files without a ClickPipe", () => {
    expect(validateManifestText("a: [1,\n", "bad.yaml")[0]).toMatch(/^bad\.yaml:1 \(document\): is not valid YAML/);
    expect(validateManifestText("apiVersion: v1\nkind: Secret\nmetadata: { name: s }\n", "s.yaml")).toEqual([
      "s.yaml: no ClickPipe document (apiVersion: clickpipes.io/v1alpha1, kind: ClickPipe) found",
    ]);
  });
});

describe("YAML dialect", () => {
  it("reads yes/no as booleans, as kubectl does", () => {
    const loaded = loadManifests(pipe.replace("    table: events\n", "    table: events\n    managedTable: no\n"));
    expect(loaded.problems).toEqual([]);
    expect(loaded.pipes[0]?.pipe.spec.destination.managedTable).toBe(false);
  });
});
