import { parseClickPipe, type ClickPipe } from "../api/index.js";

/** A valid Kafka pipe for unit tests, with spec fields overridable (shallowly). */
export function samplePipe(overrides: { spec?: Record<string, unknown>; status?: Record<string, unknown> } = {}): ClickPipe {
  const spec = {
    source: {
      kafka: {
        brokers: "127.0.0.1:9092",
        topics: "events",
        authentication: "SCRAM-SHA-512",
        credentialsSecretRef: { name: "kafka-creds" },
        caCertificateSecretRef: { name: "kafka-ca" },
      },
    },
    destination: {
      clickhouse: { url: "http://127.0.0.1:8123", credentialsSecretRef: { name: "ch-admin" } },
      table: "events",
      columns: [{ name: "id", type: "UInt64" }],
    },
    scaling: { replicas: 2, size: "M" },
    ...overrides.spec,
  };
  return parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "events", namespace: "analytics", uid: "uid-1", generation: 3 },
    spec,
    ...(overrides.status ? { status: overrides.status } : {}),
  });
}
