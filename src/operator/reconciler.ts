import type { Logger } from "pino";
import {
  API_GROUP_VERSION,
  ConditionReason,
  ConditionStatus,
  ConditionType,
  KIND,
  ClickPipeSchema,
  formatProblem,
  validateWith,
  secretReferences,
  type ClickPipe,
  type ClickPipeStatus,
} from "../api/index.js";
import type { SecretResolver } from "../ingest/secrets.js";
import { ConfigError } from "../ingest/errors.js";
import type { DatabaseReadings, Endpoint } from "./clickhouse-readings.js";
import { DestinationUnavailableError, type SetupOutcome } from "./clickhouse-ops.js";
import type { OperatorConfig } from "./config.js";
import {
  buildConfigMap,
  buildConsumerDeployment,
  buildConsumerServiceAccount,
  buildUserSecret,
  configHash,
  configMapName,
  consumerSecretMounts,
  deploymentName,
  desiredReplicas,
  FINALIZER,
  secretValue,
  userSecretName,
} from "./desired.js";
import { applyIfChanged, patchFinalizers, patchStatus, paths, type ApiRequester } from "./kube/apply.js";
import { KubeApiError, type KubeObject } from "./kube/client.js";
import type { HandlerResult } from "./queue.js";
import type { SourceProbeResult, SourceProber } from "./source-probe.js";
import { unsupportedSource } from "./capabilities.js";
import { computeStatus, statusEqual, withTransitions, type Blocker, type DeploymentObservation, type Reachability, type StatusInput } from "./status.js";

/** Read access to an informer's cache. */
export interface Store {
  get(key: string): KubeObject | undefined;
}

/** The pipes cache also takes what the reconciler wrote, so it never acts on a stale copy. */
export interface PipeStore extends Store {
  remember(obj: KubeObject): void;
}

export interface Stores {
  readonly pipes: PipeStore;
  readonly deployments: Store;
  readonly configMaps: Store;
  readonly secrets: Store;
}

interface SetupResult {
  readonly ok: boolean;
  readonly blocker?: Blocker;
  readonly endpoint?: Endpoint;
  /** Set when setup could not reach ClickHouse. */
  readonly destination?: Reachability;
}

/** The ClickHouse side, as the reconciler uses it (ClickHouseOps implements it). */
export interface ClickHouseSide {
  setup(pipe: ClickPipe, endpoint: Endpoint, password: string): Promise<SetupOutcome>;
  dropUser(pipe: ClickPipe, endpoint: Endpoint): Promise<void>;
  logSystemError(pipe: ClickPipe, endpoint: Endpoint, errorType: string, message: string): Promise<void>;
}

export interface EventRecorder {
  record(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

export interface ReconcilerDeps {
  readonly api: ApiRequester;
  readonly stores: Stores;
  readonly config: OperatorConfig;
  readonly clickhouse: ClickHouseSide;
  readonly readings: { get(endpoint: Endpoint, database: string): Promise<DatabaseReadings> };
  readonly probeSource: SourceProber;
  readonly events: EventRecorder;
  readonly now?: () => Date;
}

/** How long deletion waits for an unreachable ClickHouse to drop the pipe's user before giving up. */
const DROP_USER_PATIENCE_MS = 5 * 60_000;
/** Setup (idempotent DDL and grants) is redone this often even when nothing changed, to repair drift. */
const SETUP_REFRESH_MS = 10 * 60_000;

interface SetupMemo {
  readonly fingerprint: string;
  readonly at: number;
}

function decode(secret: KubeObject | undefined, key: string): string | undefined {
  return secretValue(secret as { data?: Record<string, string> } | undefined, key);
}

/**
 * reconcile(key) re-reads the pipe and what it owns from the informer caches, decides from
 * the whole picture, and is safe to run any number of times. It never writes spec.
 */
export class Reconciler {
  private readonly setupDone = new Map<string, SetupMemo>();
  private readonly probes = new Map<string, { at: number; generation: number | undefined; result: SourceProbeResult | undefined }>();
  private readonly serviceAccounts = new Map<string, Promise<void>>();
  /** Per pipe: the inputs of its consumer objects when they were last found up to date. */
  private readonly applied = new Map<string, string>();

  constructor(private readonly deps: ReconcilerDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Forget per-pipe memory of a pipe that is gone. */
  forget(key: string): void {
    this.probes.delete(key);
    this.applied.delete(key);
    for (const k of this.setupDone.keys()) if (k.startsWith(`${key}|`)) this.setupDone.delete(k);
  }

  async reconcile(key: string, log: Logger): Promise<HandlerResult> {
    const obj = this.deps.stores.pipes.get(key);
    if (!obj) {
      this.forget(key);
      return {};
    }
    if (obj.metadata.deletionTimestamp) return this.finalize(obj, log);
    const parsed = validateWith(ClickPipeSchema, { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: obj.spec });
    if (!parsed.ok) {
      await this.reportInvalid(obj, parsed.problems.map(formatProblem).join("; "), log);
      return {};
    }
    let current = obj;
    if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) {
      current = await patchFinalizers(this.deps.api, obj, [...(obj.metadata.finalizers ?? []), FINALIZER]);
      this.deps.stores.pipes.remember(current);
      log.info("added finalizer");
    }
    const pipe: ClickPipe = { ...parsed.value, metadata: { ...parsed.value.metadata, ...current.metadata }, status: current.status as ClickPipeStatus | undefined };
    return this.reconcilePipe(pipe, current, log);
  }

  private async reconcilePipe(pipe: ClickPipe, obj: KubeObject, log: Logger): Promise<HandlerResult> {
    const running = pipe.spec.state === "Running";
    const setup = await this.setup(pipe, running, log);
    const { blocker, endpoint, destination } = setup;
    const readings = endpoint && !blocker ? await this.deps.readings.get(endpoint, pipe.spec.destination.database) : undefined;
    const probe = running && !blocker ? await this.probe(pipe) : undefined;
    const status = computeStatus({
      ...this.observed(pipe, readings),
      blocker,
      source: probe?.reachability,
      destination: destination ?? readings?.reachability,
      lag: probe?.lag,
    });
    if (!blocker && (setup.ok || !running)) await this.applyConsumers({ ...pipe, status });
    await this.afterStatus(pipe, obj, status, endpoint, log);
    if (blocker) return { requeueAfterMs: this.deps.config.specErrorRequeueMs };
    return destination && !destination.ok ? { requeueAfterMs: this.deps.config.resyncMs } : {};
  }

  /** What ClickHouse and the Deployment say about the pipe. */
  private observed(pipe: ClickPipe, readings: DatabaseReadings | undefined): StatusInput {
    const id = this.id(pipe);
    const ok = readings?.reachability.ok === true;
    return {
      pipe,
      now: this.now(),
      deployment: this.observeDeployment(pipe),
      totals: ok ? (readings.totals.get(id) ?? { rows: 0, bytes: 0, recordErrors: 0 }) : undefined,
      lastRecordError: readings?.lastRecordError.get(id),
      system: readings?.system.get(id),
      sourceFailAfterMs: this.deps.config.sourceFailAfterMs,
      destinationFailAfterMs: this.deps.config.destinationFailAfterMs,
    };
  }

  private async setup(pipe: ClickPipe, running: boolean, log: Logger): Promise<SetupResult> {
    const blocker = unsupportedSource(pipe) ?? this.missingSecrets(pipe);
    if (blocker) return { ok: false, blocker };
    const endpoint = this.adminEndpoint(pipe);
    const password = await this.applyUserSecret(pipe);
    return { ...(await this.ensureSetup(pipe, endpoint, password, running, log)), endpoint };
  }

  private id(pipe: ClickPipe): string {
    return `${pipe.metadata.namespace ?? "default"}/${pipe.metadata.name}`;
  }

  private ns(pipe: ClickPipe): string {
    return pipe.metadata.namespace ?? "default";
  }

  private secret(pipe: ClickPipe, name: string): KubeObject | undefined {
    return this.deps.stores.secrets.get(`${this.ns(pipe)}/${name}`);
  }

  /** The first referenced Secret or key that is missing, as a blocker naming the field and the fix. */
  missingSecrets(pipe: ClickPipe): Blocker | undefined {
    for (const ref of secretReferences(pipe.spec)) {
      const on = ref.path.startsWith("spec.source") ? "source" : "destination";
      const secret = this.secret(pipe, ref.name);
      if (!secret) {
        return { on, reason: ConditionReason.SecretNotFound, message: `Secret "${ref.name}" (${ref.path}) not found in namespace ${this.ns(pipe)}: create it with key(s) ${ref.keys.join(", ")}` };
      }
      const missing = ref.keys.filter((k) => decode(secret, k) === undefined);
      if (missing.length > 0) {
        return { on, reason: ConditionReason.SecretKeyMissing, message: `Secret "${ref.name}" (${ref.path}) has no key(s) ${missing.join(", ")}: add them` };
      }
    }
    return undefined;
  }

  private adminEndpoint(pipe: ClickPipe): Endpoint {
    const c = pipe.spec.destination.clickhouse;
    const secret = this.secret(pipe, c.credentialsSecretRef.name);
    return { url: c.url, username: decode(secret, "username") ?? "", password: decode(secret, "password") ?? "" };
  }

  /** The Secrets of the pipe's namespace, for clients built with the pipe's credentials. */
  resolver(pipe: ClickPipe): SecretResolver {
    return {
      get: (name, key) => {
        const value = decode(this.secret(pipe, name), key);
        if (value === undefined) throw new ConfigError(`Secret "${name}" has no key "${key}" in namespace ${this.ns(pipe)}`, { secret: name, key });
        return value;
      },
    };
  }

  /** Applies the pipe user's Secret (keeping its password) and returns the password. */
  private async applyUserSecret(pipe: ClickPipe): Promise<string> {
    const existing = this.secret(pipe, userSecretName(pipe));
    const desired = buildUserSecret(pipe, existing as { data?: Record<string, string> } | undefined);
    await applyIfChanged(this.deps.api, paths.secret(this.ns(pipe), userSecretName(pipe)), desired, existing);
    return secretValue(desired, "password") ?? "";
  }

  private async ensureSetup(
    pipe: ClickPipe,
    endpoint: Endpoint,
    password: string,
    running: boolean,
    log: Logger,
  ): Promise<SetupResult> {
    const memoKey = `${this.id(pipe)}|${pipe.metadata.uid ?? ""}`;
    const fingerprint = JSON.stringify([pipe.metadata.generation, endpoint.url, endpoint.username, endpoint.password, password]);
    const memo = this.setupDone.get(memoKey);
    const fresh = memo && memo.fingerprint === fingerprint && this.now().getTime() - memo.at < SETUP_REFRESH_MS;
    if (fresh) return { ok: true };
    // Nothing writes for a stopped pipe: its tables and user are set up when it first runs.
    if (!running) return { ok: false };
    try {
      const outcome = await this.deps.clickhouse.setup(pipe, endpoint, password);
      if (!outcome.ok) {
        log.warn({ reason: outcome.blocker.reason }, outcome.blocker.message);
        return { ok: false, blocker: outcome.blocker };
      }
      this.setupDone.set(memoKey, { fingerprint, at: this.now().getTime() });
      log.info("ClickHouse tables and pipe user are set up");
      return { ok: true };
    } catch (error) {
      if (!(error instanceof DestinationUnavailableError)) throw error;
      log.warn({ err: error.message }, "ClickHouse unreachable during setup");
      return { ok: false, destination: { ok: false, reason: ConditionReason.DestinationUnreachable, message: `ClickHouse did not answer: ${error.message}` } };
    }
  }

  private async probe(pipe: ClickPipe): Promise<SourceProbeResult | undefined> {
    const key = this.id(pipe);
    const cached = this.probes.get(key);
    const maxAge = this.deps.config.resyncMs * 0.9;
    if (cached && cached.generation === pipe.metadata.generation && this.now().getTime() - cached.at < maxAge) return cached.result;
    const result = await this.deps.probeSource(pipe, this.resolver(pipe));
    this.probes.set(key, { at: this.now().getTime(), generation: pipe.metadata.generation, result });
    return result;
  }

  private observeDeployment(pipe: ClickPipe): DeploymentObservation | undefined {
    const d = this.deps.stores.deployments.get(`${this.ns(pipe)}/${deploymentName(pipe)}`);
    if (!d || !(d.metadata.ownerReferences ?? []).some((o) => o.uid === pipe.metadata.uid)) return undefined;
    const status = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
    return { ready: status.readyReplicas ?? 0, updated: status.updatedReplicas ?? 0, current: (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) };
  }

  /**
   * Applies ServiceAccount, ConfigMap and Deployment. Skipped outright when nothing they are
   * built from changed since the last reconcile found them up to date: the periodic resync
   * then costs a status computation, not three builds and comparisons per pipe.
   */
  private async applyConsumers(pipe: ClickPipe): Promise<void> {
    const ns = this.ns(pipe);
    const key = this.id(pipe);
    const existing = this.deps.stores.deployments.get(`${ns}/${deploymentName(pipe)}`);
    const existingCm = this.deps.stores.configMaps.get(`${ns}/${configMapName(pipe)}`);
    const versions: Record<string, string> = {};
    for (const { name } of consumerSecretMounts(pipe)) {
      if (name !== userSecretName(pipe)) versions[name] = this.secret(pipe, name)?.metadata.resourceVersion ?? "";
    }
    const inputs = JSON.stringify([pipe.metadata.uid, pipe.metadata.generation, desiredReplicas(pipe), existing?.metadata.resourceVersion, existingCm?.metadata.resourceVersion, versions]);
    if (this.applied.get(key) === inputs) return;
    await this.ensureServiceAccount(ns);
    const cm = buildConfigMap(pipe);
    const wroteCm = await applyIfChanged(this.deps.api, paths.configMap(ns, configMapName(pipe)), cm, existingCm);
    const config = { image: this.deps.config.consumerImage, serviceAccount: this.deps.config.consumerServiceAccount, sizePresets: this.deps.config.consumerSizePresets, configHash: configHash(cm, versions) };
    const wroteDeployment = await applyIfChanged(this.deps.api, paths.deployment(ns, deploymentName(pipe)), buildConsumerDeployment(pipe, config), existing);
    if (wroteCm || wroteDeployment) this.applied.delete(key);
    else this.applied.set(key, inputs);
  }

  /** Once per namespace and process; concurrent reconciles share the one apply. */
  private ensureServiceAccount(ns: string): Promise<void> {
    let applied = this.serviceAccounts.get(ns);
    if (!applied) {
      const sa = this.deps.config.consumerServiceAccount;
      applied = applyIfChanged(this.deps.api, paths.serviceAccount(ns, sa), buildConsumerServiceAccount(ns, sa), undefined).then(() => undefined);
      this.serviceAccounts.set(ns, applied);
      // a failed apply is retried by the next reconcile; the caller sees the error
      applied.catch(() => this.serviceAccounts.delete(ns));
    }
    return applied;
  }

  private async afterStatus(pipe: ClickPipe, obj: KubeObject, status: ClickPipeStatus, endpoint: Endpoint | undefined, log: Logger): Promise<void> {
    const before = pipe.status?.phase;
    if (status.phase !== before) {
      const ready = status.conditions?.find((c) => c.type === ConditionType.Ready);
      const reason = ready?.reason ?? String(status.phase);
      const message = ready?.message ?? "";
      if (status.phase === "Failed" && endpoint) await this.logFailure(pipe, endpoint, reason, message, log);
      const warn = status.phase === "Failed" || status.phase === "Setup";
      log.info({ from: before, to: status.phase, reason }, "phase changed");
      await this.deps.events.record(obj, warn ? "Warning" : "Normal", reason, `phase ${before ?? "(none)"} -> ${status.phase}: ${message}`);
    }
    if (!statusEqual(pipe.status, status)) this.deps.stores.pipes.remember(await patchStatus(this.deps.api, this.ns(pipe), pipe.metadata.name, status));
  }

  /** The system error row that says why the operator failed the pipe; ClickHouse may be the reason it cannot be written. */
  private async logFailure(pipe: ClickPipe, endpoint: Endpoint, reason: string, message: string, log: Logger): Promise<void> {
    try {
      await this.deps.clickhouse.logSystemError(pipe, endpoint, reason, message);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not write the system error row");
    }
  }

  private async reportInvalid(obj: KubeObject, message: string, log: Logger): Promise<void> {
    log.warn({ problems: message }, "invalid spec");
    const pipe = { apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, generation: obj.metadata.generation }, status: obj.status } as unknown as ClickPipe;
    const conditions = withTransitions(pipe, [{ type: ConditionType.Ready, status: ConditionStatus.False, reason: ConditionReason.InvalidSpec, message: `the spec is invalid: ${message}` }], this.now());
    const status: ClickPipeStatus = { ...(obj.status as ClickPipeStatus | undefined), phase: "Failed", observedGeneration: obj.metadata.generation, conditions };
    if (!statusEqual(obj.status, status)) this.deps.stores.pipes.remember(await patchStatus(this.deps.api, obj.metadata.namespace ?? "default", obj.metadata.name, status));
  }

  /** Deletion: stop the consumers, drop the pipe's ClickHouse user, release the finalizer; tables stay. */
  private async finalize(obj: KubeObject, log: Logger): Promise<HandlerResult> {
    const finalizers = obj.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return {};
    const ns = obj.metadata.namespace ?? "default";
    await this.deleteIfPresent(paths.deployment(ns, obj.metadata.name));
    const parsed = validateWith(ClickPipeSchema, { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: obj.spec });
    if (parsed.ok) await this.dropUser(parsed.value, obj, log);
    await patchFinalizers(this.deps.api, obj, finalizers.filter((f) => f !== FINALIZER));
    this.forget(`${ns}/${obj.metadata.name}`);
    log.info("finalized: consumers stopped, ClickHouse user dropped, tables kept");
    return {};
  }

  private async dropUser(pipe: ClickPipe, obj: KubeObject, log: Logger): Promise<void> {
    const adminRef = pipe.spec.destination.clickhouse.credentialsSecretRef.name;
    if (!this.secret(pipe, adminRef)) {
      await this.deps.events.record(obj, "Warning", ConditionReason.SecretNotFound, `could not drop the pipe's ClickHouse user: Secret "${adminRef}" is gone; drop it by hand`);
      return;
    }
    try {
      await this.deps.clickhouse.dropUser(pipe, this.adminEndpoint(pipe));
    } catch (error) {
      const deletingFor = this.now().getTime() - Date.parse(obj.metadata.deletionTimestamp ?? "");
      if (!(error instanceof DestinationUnavailableError) || deletingFor < DROP_USER_PATIENCE_MS) throw error;
      log.warn({ err: error.message }, "giving up dropping the ClickHouse user");
      await this.deps.events.record(obj, "Warning", ConditionReason.DestinationUnreachable, `could not drop the pipe's ClickHouse user (ClickHouse unreachable for ${Math.round(deletingFor / 60_000)} min); drop it by hand`);
    }
  }

  private async deleteIfPresent(path: string): Promise<void> {
    try {
      await this.deps.api.request("DELETE", path, { query: { propagationPolicy: "Background" } });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.notFound)) throw error;
    }
  }
}
