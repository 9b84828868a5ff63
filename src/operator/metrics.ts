import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The operator's Prometheus metrics, on their own registry (no global state between tests). */
export interface OperatorMetrics {
  readonly registry: Registry;
  /** The phases the phase gauge reports; the status writer records into it. */
  readonly pipePhases: PipePhases;
  readonly reconciles: Counter<"result">;
  readonly reconcileErrors: Counter;
  readonly reconcileDuration: Histogram;
  readonly queueDepth: Gauge;
  readonly leader: Gauge;
  readonly kubeRequests: Counter<"verb" | "resource" | "code">;
  readonly clickhouseQueries: Counter<"kind">;
  readonly pipePhase: Gauge<"namespace" | "name" | "pipe" | "phase">;
}

/** Every phase a pipe can be in; the gauge has one series per phase, 1 for the current one (kube-state-metrics style). */
export const PHASES = ["Provisioning", "Setup", "Snapshot", "Running", "Stopped", "Failed", "Completed"] as const;

/**
 * The last phase the operator wrote for each pipe (`namespace/name`), read by the phase
 * gauge at scrape time. The status writer records into it; the reconciler forgets a pipe
 * that is gone, so its series go with it.
 */
export class PipePhases {
  private readonly phases = new Map<string, string>();

  set(namespace: string, name: string, phase: string): void {
    this.phases.set(`${namespace}/${name}`, phase);
  }

  forget(namespace: string, name: string): void {
    this.phases.delete(`${namespace}/${name}`);
  }

  entries(): IterableIterator<[string, string]> {
    return this.phases.entries();
  }
}

/** `/apis/apps/v1/namespaces/a/deployments/x/status` → `deployments/status`, for a bounded label set. */
export function resourceOf(path: string): string {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const start = parts[0] === "api" ? 2 : 3;
  const rest = parts.slice(start);
  if (rest[0] === "namespaces" && rest.length > 2) rest.splice(0, 2);
  const resource = rest[0] ?? "unknown";
  const sub = rest.length >= 3 ? `/${rest[2]}` : "";
  return `${resource}${sub}`;
}

export function createOperatorMetrics(phases: PipePhases = new PipePhases()): OperatorMetrics {
  const registry = new Registry();
  const pipePhase = new Gauge({
    name: "clickpipes_operator_pipe_phase",
    help: "Phase of each ClickPipe as the operator last wrote it: 1 for the current phase, 0 for the others. `pipe` is namespace/name, as on the consumers' metrics.",
    labelNames: ["namespace", "name", "pipe", "phase"],
    registers: [registry],
    collect(): void {
      this.reset();
      for (const [key, current] of phases.entries()) {
        const [namespace = "", name = ""] = key.split("/");
        for (const phase of PHASES) this.set({ namespace, name, pipe: key, phase }, phase === current ? 1 : 0);
      }
    },
  });
  collectDefaultMetrics({ register: registry, prefix: "clickpipes_operator_" });
  return {
    registry,
    pipePhases: phases,
    reconciles: new Counter({ name: "clickpipes_operator_reconciles_total", help: "Reconciles by result (done, requeue, retry, terminal).", labelNames: ["result"], registers: [registry] }),
    reconcileErrors: new Counter({ name: "clickpipes_operator_reconcile_errors_total", help: "Reconciles that failed and will be retried.", registers: [registry] }),
    reconcileDuration: new Histogram({
      name: "clickpipes_operator_reconcile_duration_seconds",
      help: "Duration of one reconcile.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: "clickpipes_operator_queue_depth", help: "Pipes waiting to be reconciled.", registers: [registry] }),
    leader: new Gauge({ name: "clickpipes_operator_leader", help: "1 while this replica holds the leader Lease.", registers: [registry] }),
    kubeRequests: new Counter({ name: "clickpipes_operator_kube_requests_total", help: "Kubernetes API requests (watches counted when opened).", labelNames: ["verb", "resource", "code"], registers: [registry] }),
    pipePhase,
    clickhouseQueries: new Counter({ name: "clickpipes_operator_clickhouse_queries_total", help: "ClickHouse queries the operator ran, by kind.", labelNames: ["kind"], registers: [registry] }),
  };
}
