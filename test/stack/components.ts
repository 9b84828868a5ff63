import type { Component } from "./component.js";

/**
 * Every component of the local stack, in start order. Each lives in its own module;
 * they are loaded lazily so `up --only kafka` does not import the Kubernetes code.
 */
export const componentLoaders: Record<string, () => Promise<Component>> = {
  kafka: async () => (await import("./kafka.js")).kafka,
  clickhouse: async () => (await import("./clickhouse.js")).clickhouse,
  kinesis: async () => (await import("./kinesis.js")).kinesis,
  kube: async () => (await import("./kube.js")).kube,
  kubelet: async () => (await import("./kubelet-component.js")).kubelet,
  prometheus: async () => (await import("./prometheus.js")).prometheus,
  s3: async () => (await import("./s3.js")).s3,
  gcs: async () => (await import("./gcs.js")).gcs,
  azure: async () => (await import("./azure.js")).azure,
  "schema-registry": async () => (await import("./schema-registry.js")).schemaRegistry,
  sqs: async () => (await import("./sqs.js")).sqs,
  postgres: async () => (await import("./postgres.js")).postgres,
  sshd: async () => (await import("./sshd.js")).sshd,
  mariadb: async () => (await import("./mariadb.js")).mariadb,
};

export const allComponents = Object.keys(componentLoaders);
