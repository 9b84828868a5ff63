import { z } from "zod";
import { SIZE_PRESETS, type SizePresets } from "./desired.js";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

function seconds(def: number, what: string): z.ZodDefault<z.ZodCoercedNumber> {
  return z.coerce.number().positive().default(def).describe(`${what}, in seconds (default ${def})`);
}

/**
 * The operator's environment, the one place its knobs are declared (docs/design/contracts.md,
 * "Operator process"). Defaults follow client-go's leader election and ClickPipes' own
 * failure thresholds (15 min source, 1 h destination).
 */
export const operatorEnvSchema = z.object({
  WATCH_NAMESPACES: z
    .string()
    .default("")
    .describe("comma-separated namespaces to watch; empty (default) watches all namespaces"),
  LEADER_ELECT: bool.default(true).describe("run leader election on a coordination.k8s.io Lease (default true)"),
  LEASE_NAMESPACE: z.string().optional().describe("namespace of the Lease (default: POD_NAMESPACE, else `default`)"),
  LEASE_NAME: z.string().min(1).default("clickpipes-operator").describe("name of the Lease (default clickpipes-operator)"),
  POD_NAMESPACE: z.string().optional().describe("namespace the operator runs in (downward API)"),
  POD_NAME: z.string().optional().describe("leader identity (default: hostname plus pid)"),
  CLICKPIPES_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe("port of /healthz /readyz /metrics (default 8080; 0 picks a free port)"),
  CONSUMER_IMAGE: z.string().min(1).default("clickpipes-operator:latest").describe("image of consumer pods (default clickpipes-operator:latest)"),
  CONSUMER_SERVICE_ACCOUNT: z.string().min(1).default("clickpipes-consumer").describe("service account, without API rights, that consumer pods run as (default clickpipes-consumer); the operator creates it per namespace"),
  CONSUMER_SIZE_PRESETS: z
    .string()
    .optional()
    .describe("JSON object of consumer resources per size, {\"XS\": {\"requests\": {\"cpu\", \"memory\"}, \"limits\": {...}}, ...} (default: ClickPipes' sizes XS 0.125 vCPU/512Mi, S 0.25/1Gi, M 0.5/2Gi, L 1/4Gi, XL 2/8Gi)"),
  RESYNC_SECONDS: seconds(30, "period of the full resync and of the ClickHouse status refresh"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info").describe("pino log level (default info)"),
  // A reconcile mostly waits on the apiserver and ClickHouse (a profile of a 1,000-pipe cold
  // start: the operator idle 89% of the time with 4 workers), so more of them in flight is
  // what shortens a cold start; one key still never runs twice at once.
  WORKERS: z.coerce.number().int().min(1).max(64).default(16).describe("pipes reconciled concurrently (default 16)"),
  LEASE_DURATION_SECONDS: seconds(15, "how long a Lease holder is leader without renewing"),
  RENEW_DEADLINE_SECONDS: seconds(10, "how long the leader keeps trying to renew before it steps down"),
  RETRY_PERIOD_SECONDS: seconds(2, "interval between Lease acquire/renew attempts"),
  SOURCE_UNREACHABLE_FAIL_SECONDS: seconds(900, "how long a source may be unreachable before the pipe fails"),
  DESTINATION_UNREACHABLE_FAIL_SECONDS: seconds(3600, "how long the destination may be unreachable before the pipe fails"),
  SPEC_ERROR_REQUEUE_SECONDS: seconds(300, "delay before re-checking a pipe whose spec cannot work (a Secret or table missing); changes to the pipe or its Secrets wake it sooner"),
  SOURCE_PROBE_SECONDS: seconds(120, "how often the operator probes a source itself, for the running pipes whose consumers cannot tell (none inserted yet, or they report the source failing); keep it above RESYNC_SECONDS"),
  PROBE_TIMEOUT_SECONDS: seconds(5, "timeout of one reachability probe of a source or destination"),
  // A new pipe costs 4-5 writes (finalizer, ConfigMap, Deployment, status, and its user Secret
  // once it runs): at 50 QPS the limiter alone held 1,000 new pipes for 80-100 s. 100 brings
  // them up within a minute; the apiserver's API Priority and Fairness still guards it.
  KUBE_QPS: z.coerce.number().positive().default(100).describe("sustained Kubernetes API requests per second, bursts up to twice that (default 100)"),
});

export interface OperatorConfig {
  /** Empty means all namespaces. */
  readonly watchNamespaces: readonly string[];
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly httpPort: number;
  readonly consumerImage: string;
  readonly consumerServiceAccount: string;
  readonly consumerSizePresets: SizePresets;
  readonly resyncMs: number;
  readonly logLevel: string;
  readonly workers: number;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly sourceFailAfterMs: number;
  readonly destinationFailAfterMs: number;
  readonly specErrorRequeueMs: number;
  readonly probeTimeoutMs: number;
  readonly sourceProbeMs: number;
  readonly kubeQps: number;
}

/** Thrown when the environment cannot configure an operator; the message names each bad variable. */
export class OperatorConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid operator environment: ${issues.join("; ")}`);
    this.name = "OperatorConfigError";
  }
}

/** Parse the environment into a config, naming each bad variable, its value and what is accepted. */
export function loadOperatorConfig(env: Readonly<Record<string, string | undefined>>, hostname = "operator"): OperatorConfig {
  const parsed = operatorEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new OperatorConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? "");
        return `${key}=${JSON.stringify(env[key] ?? "")}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.RENEW_DEADLINE_SECONDS >= e.LEASE_DURATION_SECONDS) {
    throw new OperatorConfigError([`RENEW_DEADLINE_SECONDS=${e.RENEW_DEADLINE_SECONDS}: must be below LEASE_DURATION_SECONDS (${e.LEASE_DURATION_SECONDS})`]);
  }
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    watchNamespaces: e.WATCH_NAMESPACES.split(",").map((s) => s.trim()).filter(Boolean),
    leaderElect: e.LEADER_ELECT,
    leaseNamespace: e.LEASE_NAMESPACE ?? e.POD_NAMESPACE ?? "default",
    leaseName: e.LEASE_NAME,
    identity: e.POD_NAME ?? `${hostname}-${process.pid}`,
    httpPort: e.CLICKPIPES_HTTP_PORT,
    consumerImage: e.CONSUMER_IMAGE,
    consumerServiceAccount: e.CONSUMER_SERVICE_ACCOUNT,
    consumerSizePresets: parseSizePresets(e.CONSUMER_SIZE_PRESETS),
    resyncMs: ms(e.RESYNC_SECONDS),
    logLevel: e.LOG_LEVEL,
    workers: e.WORKERS,
    leaseDurationMs: ms(e.LEASE_DURATION_SECONDS),
    renewDeadlineMs: ms(e.RENEW_DEADLINE_SECONDS),
    retryPeriodMs: ms(e.RETRY_PERIOD_SECONDS),
    sourceFailAfterMs: ms(e.SOURCE_UNREACHABLE_FAIL_SECONDS),
    destinationFailAfterMs: ms(e.DESTINATION_UNREACHABLE_FAIL_SECONDS),
    specErrorRequeueMs: ms(e.SPEC_ERROR_REQUEUE_SECONDS),
    probeTimeoutMs: ms(e.PROBE_TIMEOUT_SECONDS),
    sourceProbeMs: ms(e.SOURCE_PROBE_SECONDS),
    kubeQps: e.KUBE_QPS,
  };
}

const quantity = z.union([z.string().min(1), z.number().positive()]).transform(String);
const resourceList = z.object({ cpu: quantity, memory: quantity });
const sizePresetsSchema = z.partialRecord(
  z.enum(["XS", "S", "M", "L", "XL"]),
  z.object({ requests: resourceList, limits: resourceList }),
);

/** Sizes from the chart's `consumer.sizes`; a size left out keeps ClickPipes' default. */
function parseSizePresets(json: string | undefined): SizePresets {
  if (json === undefined || json.trim() === "") return SIZE_PRESETS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new OperatorConfigError([`CONSUMER_SIZE_PRESETS: not JSON (${(err as Error).message})`]);
  }
  const parsed = sizePresetsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new OperatorConfigError(
      parsed.error.issues.map((i) => `CONSUMER_SIZE_PRESETS.${i.path.join(".")}: ${i.message} (expected {"S": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {...}}})`),
    );
  }
  return { ...SIZE_PRESETS, ...parsed.data };
}
