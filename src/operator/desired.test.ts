import { describe, expect, it } from "vitest";
import {
  buildConfigMap,
  buildConsumerDeployment,
  buildUserSecret,
  CONSUMER_COMMAND,
  configHash,
  consumerSecretMounts,
  secretValue,
  SIZE_PRESETS,
  userSecretName,
} from "./desired.js";
import { samplePipe } from "./test-fixtures.js";

const config = { image: "clickpipes:1", serviceAccount: "clickpipes-consumer", sizePresets: SIZE_PRESETS, configHash: "abc" };

describe("buildConsumerDeployment", () => {
  it("runs scaling.replicas consumers sized by the preset, labelled and owned by the pipe", () => {
    const d = buildConsumerDeployment(samplePipe(), config);
    const meta = d.metadata!;
    const spec = d.spec!;
    const pod = spec.template.spec!;
    const c = pod.containers[0]!;
    expect([meta.name, meta.namespace]).toEqual(["events", "analytics"]);
    expect(meta.labels!["clickpipes.io/pipe"]).toBe("events");
    expect(spec.template.metadata!.labels!["clickpipes.io/pipe"]).toBe("events");
    expect(spec.selector.matchLabels).toEqual({ "clickpipes.io/pipe": "events" });
    expect(meta.ownerReferences).toEqual([
      { apiVersion: "clickpipes.io/v1alpha1", kind: "ClickPipe", name: "events", uid: "uid-1", controller: true, blockOwnerDeletion: true },
    ]);
    expect(spec.replicas).toBe(2);
    expect(c.resources).toEqual({ requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "500m", memory: "2Gi" } });
    expect(c.command).toEqual([...CONSUMER_COMMAND]);
    expect(c.command!.slice(-1)).toEqual(["consume"]);
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(c.readinessProbe!.httpGet!.path).toBe("/readyz");
    expect(c.livenessProbe!.httpGet!.path).toBe("/healthz");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe("clickpipes-consumer");
  });

  it("gives the consumer its config file, secrets dir and HTTP port as the contract says", () => {
    const d = buildConsumerDeployment(samplePipe(), config);
    const c = d.spec?.template.spec?.containers[0];
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.CLICKPIPE_CONFIG_FILE).toBe("/etc/clickpipes/pipe/pipe.json");
    expect(env.CLICKPIPE_SECRETS_DIR).toBe("/etc/clickpipes/secrets");
    expect(env.CLICKPIPES_HTTP_PORT).toBe("8080");
    expect(c?.volumeMounts?.map((m) => m.mountPath)).toEqual(["/etc/clickpipes/pipe", "/etc/clickpipes/secrets"]);
    const volumes = d.spec?.template.spec?.volumes ?? [];
    expect(volumes[0]?.configMap?.name).toBe("events-clickpipe");
    const paths = (volumes[1]?.projected?.sources ?? []).flatMap((s) => (s.secret?.items ?? []).map((i) => i.path));
    expect(paths).toEqual([
      "events-clickpipe-user/password",
      "events-clickpipe-user/username",
      "kafka-ca/ca.crt",
      "kafka-creds/password",
      "kafka-creds/username",
    ]);
  });

  it("runs no consumers when the pipe is stopped or failed", () => {
    expect(buildConsumerDeployment(samplePipe({ spec: { state: "Stopped" } }), config).spec?.replicas).toBe(0);
    expect(buildConsumerDeployment(samplePipe({ status: { phase: "Failed" } }), config).spec?.replicas).toBe(0);
  });

  it("uses explicit resources instead of the preset, normalising cpu", () => {
    const pipe = samplePipe({ spec: { scaling: { replicas: 1, resources: { requests: { cpu: "0.5", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } } } } });
    const c = buildConsumerDeployment(pipe, config).spec?.template.spec?.containers[0];
    expect(c?.resources).toEqual({ requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } });
    expect(c?.env?.find((e) => e.name === "NODE_OPTIONS")?.value).toBe("--max-old-space-size=768");
  });

  it("maps each size preset to ClickPipes' replica sizes", () => {
    const sizes = ["XS", "S", "M", "L", "XL"].map((size) => buildConsumerDeployment(samplePipe({ spec: { scaling: { size } } }), config).spec?.template.spec?.containers[0]?.resources?.limits);
    expect(sizes).toEqual([
      { cpu: "125m", memory: "512Mi" },
      { cpu: "250m", memory: "1Gi" },
      { cpu: "500m", memory: "2Gi" },
      { cpu: "1", memory: "4Gi" },
      { cpu: "2", memory: "8Gi" },
    ]);
  });

  it("carries the config hash on the pod template so a config change rolls the pods", () => {
    const a = buildConsumerDeployment(samplePipe(), { ...config, configHash: "h1" });
    const b = buildConsumerDeployment(samplePipe(), { ...config, configHash: "h2" });
    expect(a.spec?.template.metadata?.annotations?.["clickpipes.io/config-hash"]).toBe("h1");
    expect(b.spec?.template.metadata?.annotations?.["clickpipes.io/config-hash"]).toBe("h2");
  });
});

describe("buildConfigMap", () => {
  it("holds the resolved pipe with the pipe user's Secret as destination credentials and no secret values", () => {
    const cm = buildConfigMap(samplePipe());
    const text = cm.data?.["pipe.json"] ?? "";
    const resolved = JSON.parse(text) as { metadata: Record<string, string>; spec: Record<string, Record<string, unknown>> };
    expect(resolved.metadata).toEqual({ name: "events", namespace: "analytics", uid: "uid-1" });
    expect(resolved.spec.destination?.clickhouse).toEqual({ url: "http://127.0.0.1:8123", credentialsSecretRef: { name: "events-clickpipe-user" } });
    expect(text).not.toContain("ch-admin");
    expect(resolved.spec.settings?.maxBatchRows).toBe(100000);
    expect(cm.metadata?.ownerReferences?.[0]?.uid).toBe("uid-1");
  });

  it("does not change when only replicas or state change, so scaling does not restart consumers", () => {
    const base = configHash(buildConfigMap(samplePipe()), {});
    expect(configHash(buildConfigMap(samplePipe({ spec: { scaling: { replicas: 5, size: "M" } } })), {})).toBe(base);
    expect(configHash(buildConfigMap(samplePipe({ spec: { state: "Stopped" } })), {})).toBe(base);
    expect(configHash(buildConfigMap(samplePipe({ spec: { settings: { maxBatchRows: 10 } } })), {})).not.toBe(base);
    expect(configHash(buildConfigMap(samplePipe()), { "kafka-creds": "7" })).not.toBe(base);
  });
});

describe("buildUserSecret", () => {
  it("generates a password once and keeps the existing one afterwards", () => {
    const pipe = samplePipe();
    const first = buildUserSecret(pipe, undefined, () => "p1");
    expect(first.metadata?.name).toBe(userSecretName(pipe));
    expect(secretValue(first, "username")).toMatch(/^clickpipes_analytics_events_[0-9a-f]{8}$/);
    expect(secretValue(first, "password")).toBe("p1");
    const again = buildUserSecret(pipe, first, () => "p2");
    expect(secretValue(again, "password")).toBe("p1");
  });

  it("generates distinct passwords by default", () => {
    const a = secretValue(buildUserSecret(samplePipe(), undefined), "password");
    const b = secretValue(buildUserSecret(samplePipe(), undefined), "password");
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toBe(b);
  });
});

describe("consumerSecretMounts", () => {
  it("mounts the admin Secret only when another field also references it", () => {
    const pipe = samplePipe({ spec: { source: { kafka: { brokers: "b:9092", topics: "t" } } } });
    expect(consumerSecretMounts(pipe)).toEqual([{ name: "events-clickpipe-user", keys: ["password", "username"] }]);
  });
});
