import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { Logger } from "pino";
import { PLURAL } from "../api/index.js";
import { ClickHouseOps } from "./clickhouse-ops.js";
import { ReadingsCache } from "./clickhouse-readings.js";
import type { OperatorConfig } from "./config.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "./desired.js";
import { KubeEventRecorder } from "./events.js";
import { startHttpServer } from "./http.js";
import { KubeClient } from "./kube/client.js";
import { objectKey, type InformerHandler } from "./kube/informer.js";
import { LeaderElector } from "./kube/leader.js";
import { createOperatorMetrics, resourceOf, type OperatorMetrics } from "./metrics.js";
import { collectionPath, MultiInformer, ownerKey } from "./multi-informer.js";
import { WorkQueue, type QueueOutcome } from "./queue.js";
import { Reconciler } from "./reconciler.js";
import { ReferencedSecrets } from "./referenced-secrets.js";
import { pluginProbe, SourceProbes } from "./source-probes.js";

/** Source probes running at once: each may hold a connection to a source for up to PROBE_TIMEOUT_SECONDS. */
const PROBE_CONCURRENCY = 4;

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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function logOutcome(log: Logger, metrics: OperatorMetrics, key: string, outcome: QueueOutcome): void {
  metrics.reconciles.inc({ result: outcome.kind });
  metrics.reconcileDuration.observe(outcome.durationMs / 1000);
  if (outcome.kind === "retry") {
    metrics.reconcileErrors.inc();
    log.warn({ pipe: key, err: errorText(outcome.error), retryInMs: outcome.afterMs }, "reconcile failed, will retry");
  }
}

export async function startOperator(config: OperatorConfig, log: Logger, hooks: OperatorHooks): Promise<RunningOperator> {
  const metrics = createOperatorMetrics();
  const client = await KubeClient.fromEnvironment(config.kubeQps, (verb, path, code) => metrics.kubeRequests.inc({ verb, resource: resourceOf(path), code: String(code) }));
  const queue = new WorkQueue({ concurrency: config.workers, onResult: (key, outcome) => logOutcome(log, metrics, key, outcome) });
  const ns = config.watchNamespaces;
  const managed = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
  const late: { reconciler?: Reconciler } = {};

  const pipes = new MultiInformer(client, {
    namespaces: ns,
    path: collectionPath("clickpipes.io/v1alpha1", PLURAL),
    log,
    onEvent: (type, obj) => {
      const key = objectKey(obj);
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
  // Consumers of sources that split their work by replica index run as StatefulSets.
  const statefulSets = new MultiInformer(client, { namespaces: ns, path: collectionPath("apps/v1", "statefulsets"), labelSelector: managed, onEvent: toOwner, log });
  const configMaps = new MultiInformer(client, { namespaces: ns, path: collectionPath("", "configmaps"), labelSelector: managed, onEvent: toOwner, log });
  // Only the Secrets the operator owns are watched; the ones pipes reference are read by name (ReferencedSecrets).
  const ownedSecrets = new MultiInformer(client, { namespaces: ns, path: collectionPath("", "secrets"), labelSelector: managed, onEvent: toOwner, log });
  const all = [pipes, deployments, statefulSets, configMaps, ownedSecrets];

  const clickhouse = new ClickHouseOps((kind) => metrics.clickhouseQueries.inc({ kind }));
  const rec = new Reconciler({
    api: client,
    stores: { pipes, deployments, statefulSets, configMaps, secrets: new ReferencedSecrets(client, ownedSecrets, config.resyncMs * 0.9) },
    config,
    clickhouse,
    readings: new ReadingsCache((endpoint, sql) => clickhouse.query(endpoint, sql), config.resyncMs * 0.9),
    probes: new SourceProbes({ probe: pluginProbe(config.probeTimeoutMs), intervalMs: config.sourceProbeMs, concurrency: PROBE_CONCURRENCY, onResult: (key) => queue.add(key), log }),
    events: new KubeEventRecorder(client, config.identity, log),
    phases: metrics.pipePhases,
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
