import { describe, expect, it } from "vitest";
import {
  ClickPipeValidationError,
  defaultConsumerGroup,
  kafkaUsesTls,
  parseClickPipe,
  pipeId,
  secretReferences,
  sourceKind,
} from "./index.js";

function kafkaManifest(kafka: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "events", namespace: "analytics", resourceVersion: "12", managedFields: [] },
    spec: {
      source: { kafka: { brokers: "b1:9092", topics: "events", ...kafka } },
      destination: {
        clickhouse: { url: "http://ch:8123", credentialsSecretRef: { name: "ch-admin" } },
        table: "events",
        columns: [{ name: "id", type: "UInt64" }],
      },
    },
  };
}

describe("parseClickPipe", () => {
  it("applies the documented defaults to a minimal Kafka pipe", () => {
    const pipe = parseClickPipe(kafkaManifest());
    expect(pipe.spec.state).toBe("Running");
    expect(pipe.spec.source.kafka).toMatchObject({ type: "kafka", format: "JSONEachRow", offset: { strategy: "from_beginning" } });
    expect(pipe.spec.destination).toMatchObject({ database: "default", managedTable: true, permissions: "destinationOnly" });
    expect(pipe.spec.scaling).toEqual({ replicas: 1, size: "S" });
    expect(pipe.spec.settings).toMatchObject({ streamingMaxInsertWaitTime: "5s", maxBatchRows: 100_000, maxBatchBytes: "20MiB", exactlyOnce: false });
  });

  it("keeps metadata the apiserver adds", () => {
    expect(parseClickPipe(kafkaManifest()).metadata).toMatchObject({ resourceVersion: "12", managedFields: [] });
  });

  it("accepts the status the operator writes", () => {
    const manifest = {
      ...kafkaManifest(),
      status: {
        phase: "Running",
        observedGeneration: 3,
        conditions: [
          { type: "Ready", status: "True", observedGeneration: 3, lastTransitionTime: "2024-05-01T00:00:00Z", reason: "Reconciled", message: "" },
        ],
        replicas: { desired: 2, ready: 2 },
        selector: "clickpipes.io/pipe=events",
        ingested: { rows: 10, bytes: 100, lastInsertTime: "2024-05-01T00:00:01.5Z" },
        errors: { records: 1, system: 0, lastError: { time: "2024-05-01T00:00:00Z", type: "DECODE", message: "bad json" } },
        lag: 0,
      },
    };
    expect(parseClickPipe(manifest).status?.replicas).toEqual({ desired: 2, ready: 2 });
  });

  it("throws a typed error listing every bad field", () => {
    const bad = kafkaManifest({ brokers: "", password: "x" });
    let caught: unknown;
    try {
      parseClickPipe(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ClickPipeValidationError);
    const problems = (caught as ClickPipeValidationError).problems.map((p) => p.path);
    expect(problems).toEqual(expect.arrayContaining(["spec.source.kafka.brokers", "spec.source.kafka.password"]));
  });
});

describe("helpers", () => {
  it("names a pipe by namespace/name, default namespace when absent", () => {
    expect(pipeId({ metadata: { name: "a", namespace: "ns" } })).toBe("ns/a");
    expect(pipeId({ metadata: { name: "a" } })).toBe("default/a");
    expect(defaultConsumerGroup({ metadata: { name: "a", namespace: "ns" } })).toBe("clickpipes-ns-a");
  });

  it("derives TLS from the CA reference and the service type", () => {
    const tlsOf = (kafka: Record<string, unknown>): boolean => kafkaUsesTls(parseClickPipe(kafkaManifest(kafka)).spec.source.kafka!);
    expect(tlsOf({})).toBe(false);
    expect(tlsOf({ caCertificateSecretRef: { name: "ca" } })).toBe(true);
    expect(tlsOf({ type: "confluent" })).toBe(true);
    expect(tlsOf({ type: "confluent", tls: false })).toBe(false);
  });

  it("lists the Secrets and keys a pipe reads", () => {
    const pipe = parseClickPipe(
      kafkaManifest({ authentication: "SCRAM-SHA-512", credentialsSecretRef: { name: "kafka" }, caCertificateSecretRef: { name: "ca" } }),
    );
    expect(sourceKind(pipe.spec)).toBe("kafka");
    expect(secretReferences(pipe.spec)).toEqual([
      { path: "spec.source.kafka.credentialsSecretRef", name: "kafka", keys: ["username", "password"] },
      { path: "spec.source.kafka.caCertificateSecretRef", name: "ca", keys: ["ca.crt"] },
      { path: "spec.destination.clickhouse.credentialsSecretRef", name: "ch-admin", keys: ["username", "password"] },
    ]);
  });
});

describe("ReplacingMergeTree is_deleted column", () => {
  function withEngine(engine: Record<string, unknown>, columns: { name: string; type: string }[] = [{ name: "id", type: "UInt64" }, { name: "v", type: "UInt64" }, { name: "d", type: "UInt8" }]): Record<string, unknown> {
    const manifest = kafkaManifest();
    const spec = manifest.spec as { destination: Record<string, unknown> };
    spec.destination = { ...spec.destination, columns, tableDefinition: { engine, sortingKey: ["id"] } };
    return manifest;
  }

  function problemsOf(manifest: Record<string, unknown>): { path: string; message: string }[] {
    try {
      parseClickPipe(manifest);
    } catch (error) {
      if (error instanceof ClickPipeValidationError) return error.problems.map((p) => ({ path: p.path, message: `${p.wrong} (${p.accepted})` }));
      throw error;
    }
    return [];
  }

  const path = "spec.destination.tableDefinition.engine.isDeletedColumnId";

  it("accepts a UInt8 is_deleted column beside the version column", () => {
    const pipe = parseClickPipe(withEngine({ type: "ReplacingMergeTree", versionColumnId: "v", isDeletedColumnId: "d" }));
    expect(pipe.spec.destination.tableDefinition?.engine).toEqual({ type: "ReplacingMergeTree", versionColumnId: "v", isDeletedColumnId: "d" });
  });

  it("refuses it with another engine, without a version column, or on a column that is not UInt8", () => {
    expect(problemsOf(withEngine({ type: "MergeTree", isDeletedColumnId: "d", versionColumnId: "v" })).map((p) => p.path)).toContain(path);
    const alone = problemsOf(withEngine({ type: "ReplacingMergeTree", isDeletedColumnId: "d" }));
    expect(alone).toEqual([{ path, message: "needs versionColumnId (ClickHouse takes is_deleted only after the version column) (set versionColumnId too, or remove isDeletedColumnId)" }]);
    const wide = problemsOf(withEngine({ type: "ReplacingMergeTree", versionColumnId: "v", isDeletedColumnId: "v" }));
    expect(wide).toEqual([{ path, message: "must name a column of type UInt8 in columns (a column declared with type: UInt8, e.g. _peerdb_is_deleted)" }]);
    expect(problemsOf(withEngine({ type: "ReplacingMergeTree", versionColumnId: "v", isDeletedColumnId: "nope" })).map((p) => p.path)).toEqual([path]);
  });
});
