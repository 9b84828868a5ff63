import { createHash, randomBytes } from "node:crypto";
import type { V1ConfigMap, V1Deployment, V1EnvVar, V1ObjectMeta, V1OwnerReference, V1PodTemplateSpec, V1ResourceRequirements, V1Secret, V1VolumeProjection } from "@kubernetes/client-node";
import { API_GROUP_VERSION, KIND, PIPE_LABEL, SecretKeys, pipeId, secretReferences, type ClickPipe, type Scaling } from "../api/index.js";
import { pipeUserName } from "../clickhouse/users.js";
import { cappedReplicas } from "./source-support.js";
import { consumerResyncAnnotations } from "./resync.js";

/**
 * Pure builders of the objects a ClickPipe owns: its consumer Deployment, the ConfigMap with
 * the resolved pipe config and the Secret with its own ClickHouse user. No I/O here; the
 * reconciler applies what these return.
 */

/**
 * The consumer container's command. The image's entrypoint is `clickpipes`, i.e.
 * `node /app/dist/src/cli/main.js`; spelling it out keeps the pod runnable both from the image
 * and by the test kubelet, which ignores images and maps /app to the repository checkout.
 * The Dockerfile test checks that the image has this path.
 */
export const CONSUMER_COMMAND: readonly string[] = ["node", "/app/dist/src/cli/main.js", "consume"];
export const CONSUMER_CONTAINER = "consumer";
export const CONSUMER_HTTP_PORT = 8080;
export const CONFIG_MOUNT_PATH = "/etc/clickpipes/pipe";
export const CONFIG_FILE_KEY = "pipe.json";
export const SECRETS_MOUNT_PATH = "/etc/clickpipes/secrets";
export const FINALIZER = "clickpipes.io/finalizer";
export const CONFIG_HASH_ANNOTATION = "clickpipes.io/config-hash";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "clickpipes-operator";

/** Requests and limits of one consumer replica. */
export interface SizePreset {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

export type SizePresets = Readonly<Record<Scaling["size"], SizePreset>>;

const preset = (cpu: string, memory: string): SizePreset => ({ requests: { cpu, memory }, limits: { cpu, memory } });

/** ClickPipes' replica sizes; the chart's `consumer.sizes` (CONSUMER_SIZE_PRESETS) overrides them. */
export const SIZE_PRESETS: SizePresets = {
  XS: preset("125m", "512Mi"),
  S: preset("250m", "1Gi"),
  M: preset("500m", "2Gi"),
  L: preset("1", "4Gi"),
  XL: preset("2", "8Gi"),
};

/** Deployment-wide inputs that do not come from the pipe. */
export interface ConsumerConfig {
  readonly image: string;
  readonly serviceAccount: string;
  /** Resources per `scaling.size` (SIZE_PRESETS unless the operator's env overrides them). */
  readonly sizePresets: SizePresets;
  /** Hash of everything that should restart the consumers when it changes (see configHash). */
  readonly configHash: string;
}

export const configMapName = (pipe: ClickPipe): string => `${pipe.metadata.name}-clickpipe`;
export const userSecretName = (pipe: ClickPipe): string => `${pipe.metadata.name}-clickpipe-user`;
/** The consumers' Deployment or StatefulSet (whichever the source needs) is named after the pipe. */
export const deploymentName = (pipe: ClickPipe): string => pipe.metadata.name;

/** The pipe's own ClickHouse user, named as src/clickhouse/users.ts names it. */
export function clickhouseUserName(pipe: ClickPipe): string {
  return pipeUserName(pipeId(pipe));
}

export function pipeLabels(pipe: ClickPipe): Record<string, string> {
  return {
    [PIPE_LABEL]: pipe.metadata.name,
    "app.kubernetes.io/name": "clickpipes-consumer",
    "app.kubernetes.io/instance": pipe.metadata.name,
    "app.kubernetes.io/component": "consumer",
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
}

export function ownerReference(pipe: ClickPipe): V1OwnerReference {
  if (!pipe.metadata.uid) throw new Error(`ClickPipe ${pipe.metadata.name} has no uid: owned objects need one read from the apiserver`);
  return { apiVersion: API_GROUP_VERSION, kind: KIND, name: pipe.metadata.name, uid: pipe.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function meta(pipe: ClickPipe, name: string): V1ConfigMap["metadata"] & object {
  return { name, namespace: pipe.metadata.namespace ?? "default", labels: pipeLabels(pipe), ownerReferences: [ownerReference(pipe)] };
}

/**
 * The config consumers read: the validated spec with its defaults, the admin credentials
 * swapped for the pipe's own user, and without `state` and `scaling.replicas`, which the
 * workload carries (so scaling does not restart the consumers of a Deployment; a
 * StatefulSet's consumers restart on a new count through their template's env instead).
 */
export function resolvedPipeConfig(pipe: ClickPipe): Record<string, unknown> {
  const { state: _state, scaling, ...spec } = pipe.spec;
  const { replicas: _replicas, ...scalingRest } = scaling;
  return {
    apiVersion: API_GROUP_VERSION,
    kind: KIND,
    metadata: { name: pipe.metadata.name, namespace: pipe.metadata.namespace ?? "default", uid: pipe.metadata.uid, ...consumerResyncAnnotations(pipe) },
    spec: {
      ...spec,
      scaling: scalingRest,
      destination: { ...spec.destination, clickhouse: { ...spec.destination.clickhouse, credentialsSecretRef: { name: userSecretName(pipe) } } },
    },
  };
}

export function buildConfigMap(pipe: ClickPipe): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(pipe, configMapName(pipe)),
    data: { [CONFIG_FILE_KEY]: JSON.stringify(resolvedPipeConfig(pipe), null, 2) },
  };
}

/** Generates a password that ClickHouse accepts in a single-quoted literal without escaping. */
export function generatePassword(random: (n: number) => Buffer = randomBytes): string {
  return random(24).toString("base64url");
}

/** The pipe user's Secret; the password of an existing Secret is kept so the user stays valid. */
/**
 * Annotation of the user Secret: a fingerprint of the grants last set up for the pipe's user.
 * Grants only add, so when the desired grants differ (permissions narrowed, a table gone) the
 * operator re-creates the user rather than leave it rights it should no longer have.
 */
export const GRANTS_ANNOTATION = "clickpipes.io/grants";

/** The grants fingerprint recorded on a user Secret, if any. */
export function recordedGrants(secret: { metadata?: { annotations?: Record<string, string> } } | undefined): string | undefined {
  return secret?.metadata?.annotations?.[GRANTS_ANNOTATION];
}

export function buildUserSecret(
  pipe: ClickPipe,
  existing: { data?: Record<string, string>; metadata?: { annotations?: Record<string, string> } } | undefined,
  newPassword: () => string = generatePassword,
  grants: string | undefined = recordedGrants(existing),
): V1Secret {
  const kept = existing?.data?.[SecretKeys.password];
  const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { ...meta(pipe, userSecretName(pipe)), ...(grants === undefined ? {} : { annotations: { [GRANTS_ANNOTATION]: grants } }) },
    type: "Opaque",
    data: { [SecretKeys.username]: b64(clickhouseUserName(pipe)), [SecretKeys.password]: kept ?? b64(newPassword()) },
  };
}

/** A Secret value, base64-decoded; undefined when the key is absent. */
export function secretValue(secret: { data?: Record<string, string> } | undefined, key: string): string | undefined {
  const v = secret?.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}

/** Secrets mounted into the consumers: every referenced one, the admin credentials replaced by the pipe user's. */
export function consumerSecretMounts(pipe: ClickPipe): { name: string; keys: string[] }[] {
  const admin = pipe.spec.destination.clickhouse.credentialsSecretRef.name;
  const byName = new Map<string, Set<string>>();
  for (const ref of secretReferences(pipe.spec)) {
    if (ref.path === "spec.destination.clickhouse.credentialsSecretRef" && ref.name === admin) continue;
    const keys = byName.get(ref.name) ?? new Set<string>();
    for (const k of ref.keys) keys.add(k);
    byName.set(ref.name, keys);
  }
  byName.set(userSecretName(pipe), new Set([SecretKeys.username, SecretKeys.password]));
  return [...byName].map(([name, keys]) => ({ name, keys: [...keys].sort() })).sort((a, b) => a.name.localeCompare(b.name));
}

/** cpu 0.5 → 500m, 2 → "2", so what we apply reads back unchanged from the apiserver. */
export function normalizeQuantity(value: string | number | undefined, resource: "cpu" | "memory"): string | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (resource !== "cpu" || s.endsWith("m")) return s;
  const cores = Number(s);
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

export function consumerResources(scaling: Scaling, presets: SizePresets = SIZE_PRESETS): V1ResourceRequirements {
  const explicit = scaling.resources;
  if (explicit) {
    const list = (l: { cpu?: string | number; memory?: string | number } | undefined): Record<string, string> | undefined => {
      if (!l) return undefined;
      const out: Record<string, string> = {};
      const cpu = normalizeQuantity(l.cpu, "cpu");
      const memory = normalizeQuantity(l.memory, "memory");
      if (cpu) out.cpu = cpu;
      if (memory) out.memory = memory;
      return out;
    };
    return { requests: list(explicit.requests), limits: list(explicit.limits) };
  }
  const { requests, limits } = presets[scaling.size];
  return {
    requests: { cpu: normalizeQuantity(requests.cpu, "cpu") ?? requests.cpu, memory: requests.memory },
    limits: { cpu: normalizeQuantity(limits.cpu, "cpu") ?? limits.cpu, memory: limits.memory },
  };
}

/**
 * Replicas the consumer workload runs: none when the pipe is stopped, has failed or has completed;
 * else spec.scaling.replicas capped at what the source can use.
 */
export function desiredReplicas(pipe: ClickPipe): number {
  const phase = pipe.status?.phase;
  if (pipe.spec.state === "Stopped" || phase === "Failed" || phase === "Completed") return 0;
  return cappedReplicas(pipe.spec);
}

/** Node's heap follows the memory limit, so a consumer is not OOM-killed before it can GC. */
function heapMiB(resources: V1ResourceRequirements): number | undefined {
  const mem = resources.limits?.memory;
  const m = mem === undefined ? undefined : /^([0-9.]+)(Mi|Gi)$/.exec(String(mem));
  if (!m) return undefined;
  const mib = Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
  return Math.max(128, Math.floor(mib * 0.75));
}

function projectedSecrets(pipe: ClickPipe): V1VolumeProjection[] {
  return consumerSecretMounts(pipe).map(({ name, keys }) => ({ secret: { name, items: keys.map((key) => ({ key, path: `${name}/${key}` })) } }));
}

/**
 * The consumers' pod template, shared by the Deployment and the StatefulSet: labels, config
 * hash, probes, volumes and resources. `extraEnv` comes after the contract's variables.
 */
export function buildConsumerPodTemplate(pipe: ClickPipe, config: ConsumerConfig, extraEnv: readonly V1EnvVar[] = []): V1PodTemplateSpec {
  const resources = consumerResources(pipe.spec.scaling, config.sizePresets);
  const heap = heapMiB(resources);
  const probe = (path: string, extra: Record<string, number>): Record<string, unknown> => ({ httpGet: { path, port: CONSUMER_HTTP_PORT }, ...extra });
  return {
    metadata: { labels: pipeLabels(pipe), annotations: { [CONFIG_HASH_ANNOTATION]: config.configHash } },
    spec: {
      serviceAccountName: config.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: CONSUMER_CONTAINER,
          image: config.image,
          command: [...CONSUMER_COMMAND],
          env: [
            { name: "CLICKPIPE_CONFIG_FILE", value: `${CONFIG_MOUNT_PATH}/${CONFIG_FILE_KEY}` },
            { name: "CLICKPIPE_SECRETS_DIR", value: SECRETS_MOUNT_PATH },
            { name: "CLICKPIPES_HTTP_PORT", value: String(CONSUMER_HTTP_PORT) },
            ...(heap ? [{ name: "NODE_OPTIONS", value: `--max-old-space-size=${heap}` }] : []),
            ...extraEnv,
          ],
          ports: [{ name: "http", containerPort: CONSUMER_HTTP_PORT, protocol: "TCP" }],
          readinessProbe: probe("/readyz", { periodSeconds: 5, failureThreshold: 3 }),
          livenessProbe: probe("/healthz", { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 6 }),
          resources,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          volumeMounts: [
            { name: "pipe-config", mountPath: CONFIG_MOUNT_PATH, readOnly: true },
            { name: "secrets", mountPath: SECRETS_MOUNT_PATH, readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: "pipe-config", configMap: { name: configMapName(pipe) } },
        { name: "secrets", projected: { sources: projectedSecrets(pipe) } },
      ],
    },
  };
}

/** Metadata of the consumers' workload (Deployment or StatefulSet): named after the pipe, owned by it, with the config hash. */
export function workloadMetadata(pipe: ClickPipe, config: ConsumerConfig): V1ObjectMeta {
  return { ...meta(pipe, deploymentName(pipe)), annotations: { [CONFIG_HASH_ANNOTATION]: config.configHash } };
}

/** Consumers of a source whose replicas are interchangeable (Kafka: the consumer group balances them). */
export function buildConsumerDeployment(pipe: ClickPipe, config: ConsumerConfig): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: workloadMetadata(pipe, config),
    spec: {
      replicas: desiredReplicas(pipe),
      selector: { matchLabels: { [PIPE_LABEL]: pipe.metadata.name } },
      template: buildConsumerPodTemplate(pipe, config),
    },
  };
}

/**
 * What restarts consumers when it changes: the pipe config and the versions of the Secrets
 * they mount (their values are read once at start).
 */
export function configHash(configMap: V1ConfigMap, secretVersions: Readonly<Record<string, string>>): string {
  const h = createHash("sha256");
  h.update(configMap.data?.[CONFIG_FILE_KEY] ?? "");
  for (const name of Object.keys(secretVersions).sort()) h.update(`\n${name}=${secretVersions[name]}`);
  return h.digest("hex").slice(0, 16);
}

/** The consumer service account of a namespace: no API rights, no token. */
export function buildConsumerServiceAccount(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    automountServiceAccountToken: false,
  };
}
