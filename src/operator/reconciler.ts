import type { Logger } from "pino";
import { ClickPipeSchema, formatProblem, pipeId, validateWith, type ClickPipe, type ClickPipeStatus } from "../api/index.js";
import type { SecretResolver } from "../ingest/secrets.js";
import type { DatabaseReadings, Endpoint } from "./clickhouse-readings.js";
import { ClickHouseSetup, type ClickHouseSide, type SetupResult } from "./clickhouse-setup.js";
import type { OperatorConfig } from "./config.js";
import { ConsumerObjects, ownedWorkload, ownedWorkloads } from "./consumer-objects.js";
import { recordedGrants, userSecretName } from "./desired.js";
import { Finalizer, type EventRecorder } from "./finalizer.js";
import type { ApiRequester } from "./kube/apply.js";
import type { KubeObject } from "./kube/client.js";
import { activeStreak, consumersRunning, needsSourceProbe, pipeHealth, type HealthInput, type PipeHealth, type TimedProbe } from "./pipe-health.js";
import { PipeSecrets } from "./pipe-secrets.js";
import type { HandlerResult } from "./queue.js";
import type { SecretStore, WritableStore } from "./referenced-secrets.js";
import { consumerWorkloadKind, unsupportedSource } from "./source-support.js";
import { computeStatus, isCompleted, type DeploymentObservation, type StatusInput } from "./status.js";
import type { PipePhases } from "./metrics.js";
import { decideResync, finishResync, snapshotView } from "./resync.js";
import { StatusWriter, type PipeStore } from "./status-writer.js";

export type { ClickHouseSide } from "./clickhouse-setup.js";
export type { EventRecorder } from "./finalizer.js";
export type { PipeStore } from "./status-writer.js";

export interface Stores {
  readonly pipes: PipeStore;
  readonly deployments: WritableStore;
  readonly statefulSets: WritableStore;
  readonly configMaps: WritableStore;
  readonly secrets: SecretStore;
}

/** The latest source probe of a pipe, starting a new one in the background when due (SourceProbes). */
export interface ProbeSource {
  latest(key: string, pipe: ClickPipe, secrets: SecretResolver, notBefore?: number): TimedProbe | undefined;
  forget(key: string): void;
}

export interface ReconcilerDeps {
  readonly api: ApiRequester;
  readonly stores: Stores;
  readonly config: OperatorConfig;
  readonly clickhouse: ClickHouseSide;
  readonly readings: { get(endpoint: Endpoint, database: string): Promise<DatabaseReadings> };
  readonly probes: ProbeSource;
  readonly events: EventRecorder;
  /** Phases for the operator's phase gauge. */
  readonly phases?: PipePhases;
  readonly now?: () => Date;
}

/**
 * reconcile(key) re-reads the pipe and what it owns from the caches, decides from the whole
 * picture, and is safe to run any number of times. It never writes spec.
 */
export class Reconciler {
  private readonly secrets: PipeSecrets;
  private readonly setupGate: ClickHouseSetup;
  private readonly consumers: ConsumerObjects;
  private readonly finalizer: Finalizer;
  private readonly statusWriter: StatusWriter;

  constructor(private readonly deps: ReconcilerDeps) {
    const now = (): Date => this.now();
    this.secrets = new PipeSecrets(deps.stores.secrets);
    this.setupGate = new ClickHouseSetup(deps.clickhouse, now);
    this.consumers = new ConsumerObjects(deps.api, deps.stores, this.secrets, deps.config);
    this.finalizer = new Finalizer({ api: deps.api, clickhouse: deps.clickhouse, secrets: this.secrets, events: deps.events, now, ownedWorkloads: (obj) => ownedWorkloads(deps.stores, obj) });
    this.statusWriter = new StatusWriter({ api: deps.api, pipes: deps.stores.pipes, clickhouse: deps.clickhouse, events: deps.events, now, ...(deps.phases === undefined ? {} : { phases: deps.phases }) });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Forget per-pipe memory of a pipe that is gone. */
  forget(key: string): void {
    const [namespace = "", name = ""] = key.split("/");
    this.deps.phases?.forget(namespace, name);
    this.deps.probes.forget(key);
    this.consumers.forget(key);
    this.setupGate.forget(key);
  }

  async reconcile(key: string, log: Logger): Promise<HandlerResult> {
    const obj = this.deps.stores.pipes.get(key);
    if (!obj) {
      this.forget(key);
      return {};
    }
    if (obj.metadata.deletionTimestamp) {
      if (await this.finalizer.finalize(obj, log)) this.forget(key);
      return {};
    }
    const parsed = validateWith(ClickPipeSchema, { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: obj.spec });
    if (!parsed.ok) {
      await this.statusWriter.reportInvalid(obj, parsed.problems.map(formatProblem).join("; "), log);
      return {};
    }
    const current = await this.finalizer.ensure(obj, log);
    if (current !== obj) this.deps.stores.pipes.remember(current);
    const pipe: ClickPipe = { ...parsed.value, metadata: { ...parsed.value.metadata, ...current.metadata }, status: current.status as ClickPipeStatus | undefined };
    return this.reconcilePipe(pipe, current, log);
  }

  private async reconcilePipe(pipe: ClickPipe, obj: KubeObject, log: Logger): Promise<HandlerResult> {
    const running = pipe.spec.state === "Running";
    await this.secrets.load(pipe);
    const setup = await this.setup(pipe, running, log);
    const { blocker, endpoint, destination } = setup;
    const readings = endpoint && !blocker ? await this.deps.readings.get(endpoint, pipe.spec.destination.database) : undefined;
    const health = this.health(pipe, readings, setup);
    const status = computeStatus({
      ...this.observed(pipe, readings),
      blocker,
      source: health.source,
      destination: destination ?? health.destination,
      lag: health.lag,
      reportedPhase: health.reportedPhase,
    });
    const resync = decideResync({ pipe, reported: readings?.resync?.get(pipeId(pipe)), now: this.now() });
    if (resync.status) status.resync = resync.status;
    if (status.snapshot) status.snapshot = snapshotView(status.snapshot, resync.status);
    if (!blocker && (setup.ok || !running)) await this.consumers.apply({ ...pipe, status }, pipeId(pipe));
    await this.statusWriter.write(pipe, obj, status, endpoint, log);
    await finishResync({ api: this.deps.api, events: this.deps.events, remember: (o) => this.deps.stores.pipes.remember(o) }, obj, resync, log);
    if (blocker) return { requeueAfterMs: this.deps.config.specErrorRequeueMs };
    return destination && !destination.ok ? { requeueAfterMs: this.deps.config.resyncMs } : {};
  }

  /** Health from the consumers' rows; a source probe only where they cannot tell. */
  private health(pipe: ClickPipe, readings: DatabaseReadings | undefined, setup: SetupResult): PipeHealth {
    const id = pipeId(pipe);
    const input: HealthInput = { pipe, readings: readings?.reachability, totals: readings?.totals.get(id), reports: readings?.reports.get(id), consumersRunning: consumersRunning(pipe) };
    const settled = pipe.status?.phase === "Failed" || isCompleted({ pipe, reportedPhase: undefined });
    if (setup.blocker || settled || !needsSourceProbe(input)) return pipeHealth(input);
    const streak = activeStreak(input.reports?.sourceError, input);
    const probe = this.deps.probes.latest(id, pipe, this.secrets.resolver(pipe), streak ? Date.parse(streak.time) : 0);
    return pipeHealth({ ...input, probe });
  }

  /** What ClickHouse and the consumers' workload say about the pipe. */
  private observed(pipe: ClickPipe, readings: DatabaseReadings | undefined): StatusInput {
    const id = pipeId(pipe);
    const ok = readings?.reachability.ok === true;
    return {
      pipe,
      now: this.now(),
      deployment: this.observeDeployment(pipe),
      totals: ok ? (readings.totals.get(id) ?? { rows: 0, bytes: 0, recordErrors: 0 }) : undefined,
      lastRecordError: readings?.lastRecordError.get(id),
      system: readings?.system.get(id),
      snapshot: readings?.snapshot?.get(id),
      sourceFailAfterMs: this.deps.config.sourceFailAfterMs,
      destinationFailAfterMs: this.deps.config.destinationFailAfterMs,
    };
  }

  private async setup(pipe: ClickPipe, running: boolean, log: Logger): Promise<SetupResult> {
    const blocker = unsupportedSource(pipe) ?? this.secrets.missing(pipe);
    if (blocker) return { ok: false, blocker };
    const endpoint = this.secrets.adminEndpoint(pipe);
    // A stopped pipe that never ran has no ClickHouse user yet, so no password to keep: its Secret is written when it first runs.
    if (!running && !this.secrets.get(pipe, userSecretName(pipe))) return { ok: false, endpoint };
    const previousGrants = recordedGrants(this.secrets.get(pipe, userSecretName(pipe)));
    const password = await this.consumers.applyUserSecret(pipe);
    const result = await this.setupGate.ensure(pipe, endpoint, { password, ...(previousGrants === undefined ? {} : { previousGrants }) }, running, log);
    // Recorded only once the user has them, so a setup that failed half-way is redone in full.
    if (result.grants !== undefined && result.grants !== previousGrants) await this.consumers.applyUserSecret(pipe, result.grants);
    return { ...result, endpoint };
  }

  /** The Deployment or StatefulSet the source needs; both report the same status fields. */
  private observeDeployment(pipe: ClickPipe): DeploymentObservation | undefined {
    const d = ownedWorkload(this.deps.stores, pipe, consumerWorkloadKind(pipe.spec));
    if (!d) return undefined;
    const status = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
    return { ready: status.readyReplicas ?? 0, updated: status.updatedReplicas ?? 0, current: (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) };
  }
}
