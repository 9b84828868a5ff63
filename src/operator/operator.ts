import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { Logger } from "pino";
import { PLURAL, API_GROUP_VERSION, KIND, parseClickPipe, secretReferences } from "../api/index.js";
import { ClickHouseOps } from "./clickhouse-ops.js";
import { ReadingsCache } from "./clickhouse-readings.js";
import type { OperatorConfig } from "./config.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "./desired.js";
import { KubeEventRecorder } from "./events.js";
import { startHttpServer } from "./http.js";
import { KubeClient, type KubeObject } from "./kube/client.js";
import { Informer, objectKey, type InformerHandler } from "./kube/informer.js";
import { LeaderElector } from "./kube/leader.js";
import { createOperatorMetrics, resourceOf, type OperatorMetrics } from "./metrics.js";
import { Reconciler, type PipeStore } from "./reconciler.js";
import { sourceProber } from "./source-probe.js";
import { WorkQueue, type QueueOutcome } from "./queue.js";

/**
 * Wiring of the operator process: informers feed keys into the work queue, the leader runs
 * the queue through the reconciler, and a periodic resync re-queues every pipe.
 */

export interface RunningOperator {
  readonly httpPort: number;
  readonly metrics: OperatorMetrics;
  stop(): Promise<void>;
}

export interface OperatorHooks {
  /** Leadership lost: the process must stop reconciling at once (the CLI exits). */
  readonly onLostLeadership: () => void;
}

/** Informers of one kind across the watched namespaces, read as one store. */
class MultiInformer implements PipeStore {
  readonly informers: Informer[];
  private readonly byNamespace = new Map<string, Informer>();

  constructor(client: KubeClient, spec: { namespaces: readonly string[]; path: (ns?: string) => string; labelSelector?: string; onEvent: InformerHandler; log: Logger }) {
    const { namespaces, path, labelSelector, onEvent, log } = spec;
    const onError = (error: unknown, relist: boolean): void => log.warn({ err: error instanceof Error ? error.message : String(error), relist, path: path() }, "watch interrupted, recovering");
    if (namespaces.length === 0) {
      this.informers = [new Informer(client, { path: path(), labelSelector, onEvent, onError })];
    } else {
      this.informers = namespaces.map((ns) => {
        const inf = new Informer(client, { path: path(ns), labelSelector, onEvent, onError });
        this.byNamespace.set(ns, inf);
        return inf;
      });
    }
  }

  private informerOf(key: string): Informer | undefined {
    if (this.byNamespace.size === 0) return this.informers[0];
    return this.byNamespace.get(key.split("/")[0] ?? "");
  }

  get(key: string): KubeObject | undefined {
    return this.informerOf(key)?.get(key);
  }

  remember(obj: KubeObject): void {
    this.informerOf(objectKey(obj))?.remember(obj);
  }

  list(): KubeObject[] {
    return this.informers.flatMap((i) => i.list());
  }

  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  get maxSilentMs(): number {
    return Math.max(0, ...this.informers.map((i) => i.silentForMs));
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

function collectionPath(group: string, resource: string): (ns?: string) => string {
  const prefix = group === "" ? "/api/v1" : `/apis/${group}`;
  return (ns) => (ns ? `${prefix}/namespaces/${ns}/${resource}` : `${prefix}/${resource}`);
}

/** The owning ClickPipe's key of an owned object, if any. */
function ownerKey(obj: KubeObject): string | undefined {
  const owner = (obj.metadata.ownerReferences ?? []).find((o) => o.kind === KIND && o.apiVersion === API_GROUP_VERSION);
  return owner ? `${obj.metadata.namespace ?? "default"}/${owner.name}` : undefined;
}

/** Which pipes read which Secret, so a Secret that appears or changes wakes its pipes. */
class SecretIndex {
  private readonly bySecret = new Map<string, Set<string>>();
  private readonly byPipe = new Map<string, string[]>();
  private readonly indexedAt = new Map<string, string>();

  update(pipeKey: string, obj: KubeObject | undefined): void {
    // status writes do not change which Secrets a pipe reads; only a new spec (generation) does
    const version = obj ? `${obj.metadata.uid ?? ""}/${obj.metadata.generation ?? ""}` : "";
    if (obj && this.indexedAt.get(pipeKey) === version) return;
    this.indexedAt.set(pipeKey, version);
    if (!obj) this.indexedAt.delete(pipeKey);
    for (const s of this.byPipe.get(pipeKey) ?? []) this.bySecret.get(s)?.delete(pipeKey);
    this.byPipe.delete(pipeKey);
    if (!obj) return;
    let names: string[];
    try {
      const pipe = parseClickPipe({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: obj.spec });
      names = secretReferences(pipe.spec).map((r) => `${obj.metadata.namespace ?? "default"}/${r.name}`);
    } catch {
      // an invalid spec reads no Secrets; the reconciler reports the problem on its status
      names = [];
    }
    this.byPipe.set(pipeKey, names);
    for (const s of names) {
      const set = this.bySecret.get(s) ?? new Set<string>();
      set.add(pipeKey);
      this.bySecret.set(s, set);
    }
  }

  pipesReading(secretKey: string): string[] {
    return [...(this.bySecret.get(secretKey) ?? [])];
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function logOutcome(log: Logger, metrics: OperatorMetrics, key: string, outcome: QueueOutcome): void {
  metrics.reconciles.inc({ result: outcome.kind });
  metrics.reconcileDuration.observe(outcome.durationMs / 1000);
  if (outcome.kind === "retry") {
    metrics.reconcileErrors.inc();
    log.warn({ pipe: key, err: errorText(outcome.error), retryInMs: outcome.afterMs }, "reconcile failed, will retry");
  } else if (outcome.kind === "terminal") {
    log.error({ pipe: key, err: errorText(outcome.error) }, "reconcile failed, not retrying");
  }
}

export async function startOperator(config: OperatorConfig, log: Logger, hooks: OperatorHooks): Promise<RunningOperator> {
  const metrics = createOperatorMetrics();
  const client = await KubeClient.fromEnvironment(config.kubeQps, (verb, path, code) => metrics.kubeRequests.inc({ verb, resource: resourceOf(path), code: String(code) }));
  const queue = new WorkQueue({ concurrency: config.workers, onResult: (key, outcome) => logOutcome(log, metrics, key, outcome) });
  const index = new SecretIndex();
  const ns = config.watchNamespaces;
  const managed = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
  const late: { reconciler?: Reconciler } = {};

  const pipes = new MultiInformer(client, {
    namespaces: ns,
    path: collectionPath("clickpipes.io/v1alpha1", PLURAL),
    log,
    onEvent: (type, obj) => {
      const key = objectKey(obj);
      index.update(key, type === "delete" ? undefined : obj);
      if (type === "delete") {
        queue.forget(key);
        late.reconciler?.forget(key);
        return;
      }
      queue.add(key);
    },
  });
  const toOwner: InformerHandler = (_type, obj) => {
    const key = ownerKey(obj);
    if (key) queue.add(key);
  };
  const deployments = new MultiInformer(client, { namespaces: ns, path: collectionPath("apps/v1", "deployments"), labelSelector: managed, onEvent: toOwner, log });
  const configMaps = new MultiInformer(client, { namespaces: ns, path: collectionPath("", "configmaps"), labelSelector: managed, onEvent: toOwner, log });
  const secrets = new MultiInformer(client, {
    namespaces: ns,
    path: collectionPath("", "secrets"),
    log,
    onEvent: (type, obj) => {
      toOwner(type, obj);
      for (const key of index.pipesReading(objectKey(obj))) queue.add(key);
    },
  });
  const all = [pipes, deployments, configMaps, secrets];

  const clickhouse = new ClickHouseOps((kind) => metrics.clickhouseQueries.inc({ kind }));
  const rec = new Reconciler({
    api: client,
    stores: { pipes, deployments, configMaps, secrets },
    config,
    clickhouse,
    readings: new ReadingsCache((endpoint, sql) => clickhouse.query(endpoint, sql), config.resyncMs * 0.9),
    probeSource: sourceProber(config.probeTimeoutMs),
    events: new KubeEventRecorder(client, config.identity, log),
  });
  late.reconciler = rec;

  let resync: NodeJS.Timeout | undefined;
  const depthTimer = setInterval(() => metrics.queueDepth.set(queue.depth), 1000);
  depthTimer.unref();

  const startReconciling = async (): Promise<void> => {
    log.info({ identity: config.identity }, "leading: waiting for caches");
    await Promise.all(all.flatMap((m) => m.informers.map((i) => i.waitForSync(10 * 60_000))));
    queue.start((key) => rec.reconcile(key, log.child({ pipe: key, reconcileId: randomBytes(4).toString("hex") })));
    for (const p of pipes.list()) queue.add(objectKey(p));
    resync = setInterval(() => {
      for (const p of pipes.list()) queue.add(objectKey(p));
    }, config.resyncMs);
    resync.unref();
    log.info({ pipes: pipes.list().length }, "caches synced, reconciling");
  };

  for (const m of all) m.start();
  const elector = config.leaderElect
    ? createElector(client, config, log, {
        started: () => {
          metrics.leader.set(1);
          startReconciling().catch((error: unknown) => {
            log.error({ err: errorText(error) }, "could not start reconciling");
            hooks.onLostLeadership();
          });
        },
        stopped: () => {
          metrics.leader.set(0);
          queue.stop();
          log.error({ identity: config.identity }, "lost leadership");
          hooks.onLostLeadership();
        },
      })
    : undefined;
  if (elector) {
    log.info({ lease: `${config.leaseNamespace}/${config.leaseName}`, identity: config.identity }, "waiting for leadership");
    elector.start();
  } else {
    metrics.leader.set(1);
    await startReconciling();
  }

  const { server, port } = await startHttpServer(
    config.httpPort,
    {
      healthy: () => {
        const silent = Math.max(...all.map((m) => m.maxSilentMs));
        return { ok: silent < 15 * 60_000, detail: `watches last active ${Math.round(silent / 1000)} s ago` };
      },
      ready: () => {
        const synced = all.every((m) => m.synced);
        return { ok: synced, detail: synced ? `caches synced, ${elector?.isLeader === false ? "standing by" : "leading"}` : "caches syncing" };
      },
    },
    metrics.registry,
  );
  log.info({ port }, "serving /healthz /readyz /metrics");

  return {
    httpPort: port,
    metrics,
    stop: async () => {
      if (resync) clearInterval(resync);
      clearInterval(depthTimer);
      queue.stop();
      await Promise.race([queue.idle(), new Promise((r) => setTimeout(r, 10_000))]);
      if (elector) await elector.stop();
      await Promise.all(all.map((m) => m.stop()));
      await closeServer(server);
      await clickhouse.close();
      client.close();
    },
  };
}

function createElector(client: KubeClient, config: OperatorConfig, log: Logger, on: { started: () => void; stopped: () => void }): LeaderElector {
  return new LeaderElector(client, {
    namespace: config.leaseNamespace,
    name: config.leaseName,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    onStartedLeading: on.started,
    onStoppedLeading: on.stopped,
    onError: (error) => log.warn({ err: errorText(error) }, "leader election attempt failed"),
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
