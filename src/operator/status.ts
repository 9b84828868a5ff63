import {
  ConditionReason,
  ConditionStatus,
  ConditionType,
  PIPE_LABEL,
  type ClickPipe,
  type ClickPipeStatus,
  type Condition,
  type PipePhase,
} from "../api/index.js";
import { desiredReplicas } from "./desired.js";
import type { TableSnapshotProgress } from "./snapshot-progress.js";
import { cappedReplicas } from "./source-support.js";

/**
 * Status as a pure function of everything the reconciler observed. Deciding here, without
 * I/O, keeps the rules (phase, conditions, failure after a long outage) testable one by one.
 */

export interface DeploymentObservation {
  readonly ready: number;
  readonly updated: number;
  /** True when the Deployment controller has seen the latest Deployment spec. */
  readonly current: boolean;
}

export interface PipeTotals {
  readonly rows: number;
  readonly bytes: number;
  readonly recordErrors: number;
  /** RFC 3339. */
  readonly lastInsertTime?: string;
  /** Sum over the pipe's streams of each stream's latest backlog, in the source's lag unit. */
  readonly lag?: number;
  /** The largest of the streams' latest backlogs (for lag in ms behind the tip, where a sum means nothing). */
  readonly maxLag?: number;
}

/** One row the consumers wrote to clickpipes_log. */
export interface Report {
  /** RFC 3339. */
  readonly time: string;
  readonly message: string;
}

/** The latest row of each kind the consumers report in clickpipes_log. */
export interface ConsumerReports {
  /** DESTINATION_ERROR: a batch insert refused for a non-data reason (first failure of a streak). */
  readonly destinationError?: Report;
  /** SOURCE_ERROR: the source could not be reached or read (first failure of a streak). */
  readonly sourceError?: Report;
  /** PHASE: Snapshot | Running | Completed. */
  readonly phase?: Report;
}

/** The lifecycle phases a source reports through its consumers. */
export type ReportedPhase = "Snapshot" | "Running" | "Completed";

export interface LastError {
  readonly time: string;
  readonly type: string;
  readonly message: string;
}

export interface SystemErrors {
  readonly count: number;
  readonly last?: LastError;
}

/** Outcome of a reachability probe. Absent probe (pipe stopped, not checked yet): Unknown. */
export interface Reachability {
  readonly ok: boolean;
  readonly reason: ConditionReason;
  readonly message: string;
}

/** A spec that cannot work as it stands (missing Secret, missing table, failed user setup). */
export interface Blocker {
  readonly on: "source" | "destination" | "setup";
  readonly reason: ConditionReason;
  readonly message: string;
}

export interface StatusInput {
  readonly pipe: ClickPipe;
  readonly now: Date;
  readonly blocker?: Blocker;
  readonly deployment?: DeploymentObservation;
  /** Absent when ClickHouse could not be read: the previous counters are kept. */
  readonly totals?: PipeTotals;
  readonly lastRecordError?: LastError;
  readonly system?: SystemErrors;
  readonly source?: Reachability;
  readonly destination?: Reachability;
  readonly lag?: number;
  /** The phase the consumers last reported for this pipe (not a predecessor of the same name). */
  readonly reportedPhase?: ReportedPhase;
  /** Initial-load progress per table (CDC sources); absent: the previous one is kept. */
  readonly snapshot?: readonly TableSnapshotProgress[];
  readonly sourceFailAfterMs: number;
  readonly destinationFailAfterMs: number;
}

interface Failure {
  readonly reason: ConditionReason;
  readonly message: string;
}

function previousCondition(pipe: ClickPipe, type: string): Condition | undefined {
  return pipe.status?.conditions?.find((c) => c.type === type);
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  return m >= 1 ? `${Math.round(m * 10) / 10} min` : `${Math.round(ms / 1000)} s`;
}

/** How long a probe has been failing: since the condition last turned False, else from now. */
function unreachableForMs(pipe: ClickPipe, type: string, probe: Reachability | undefined, now: Date): number {
  if (!probe || probe.ok) return 0;
  const prev = previousCondition(pipe, type);
  if (prev?.status !== ConditionStatus.False) return 0;
  return now.getTime() - Date.parse(prev.lastTransitionTime);
}

/**
 * Failed when the source has been unreachable for sourceFailAfterMs or the destination for
 * destinationFailAfterMs (ClickPipes' 15 min / 1 h). A failed pipe stays failed for the
 * generation it failed in: changing the spec (e.g. Stopped then Running) retries it.
 */
export function decideFailure(input: StatusInput): Failure | undefined {
  const { pipe, now } = input;
  if (pipe.spec.state === "Stopped" || isCompleted(input)) return undefined;
  const prev = pipe.status;
  if (prev?.phase === "Failed" && prev.observedGeneration === pipe.metadata.generation) {
    const ready = previousCondition(pipe, ConditionType.Ready);
    return { reason: (ready?.reason as ConditionReason | undefined) ?? ConditionReason.InternalError, message: ready?.message ?? "the pipe failed" };
  }
  const src = unreachableForMs(pipe, ConditionType.SourceReachable, input.source, now);
  if (input.source && src >= input.sourceFailAfterMs) {
    return { reason: ConditionReason.SourceUnreachableTimeout, message: `source unreachable for ${minutes(src)} (limit ${minutes(input.sourceFailAfterMs)}): ${input.source.message}; consumers stopped. Fix the source, then change the spec (e.g. state: Stopped, then Running) to retry.` };
  }
  const dst = unreachableForMs(pipe, ConditionType.DestinationReachable, input.destination, now);
  if (input.destination && dst >= input.destinationFailAfterMs) {
    return { reason: ConditionReason.DestinationUnreachableTimeout, message: `destination unreachable for ${minutes(dst)} (limit ${minutes(input.destinationFailAfterMs)}): ${input.destination.message}; consumers stopped. Fix the destination, then change the spec (e.g. state: Stopped, then Running) to retry.` };
  }
  return undefined;
}

/**
 * A one-shot source that delivered everything and committed it: Completed for good, for this
 * pipe (its status keeps it once the log row is gone); to run again, create the pipe anew.
 */
export function isCompleted(input: Pick<StatusInput, "pipe" | "reportedPhase">): boolean {
  return input.reportedPhase === "Completed" || input.pipe.status?.phase === "Completed";
}

type ConditionDraft = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

const COMPLETED_MESSAGE = "the source delivered everything and it is committed; consumers stopped and are not restarted";

function readyCondition(input: StatusInput, failure: Failure | undefined): { phase: PipePhase; ready: ConditionDraft } {
  const { phase, ready } = lifecycleCondition(input, failure);
  // Snapshot is what the pipe is doing while it would otherwise show Running.
  return { phase: phase === "Running" && input.reportedPhase === "Snapshot" ? "Snapshot" : phase, ready };
}

function lifecycleCondition(input: StatusInput, failure: Failure | undefined): { phase: PipePhase; ready: ConditionDraft } {
  const { pipe, blocker, deployment } = input;
  const draft = (status: ConditionStatus, reason: ConditionReason, message: string): ConditionDraft => ({ type: ConditionType.Ready, status, reason, message });
  if (isCompleted(input)) return { phase: "Completed", ready: draft(ConditionStatus.True, ConditionReason.Completed, COMPLETED_MESSAGE) };
  if (failure) return { phase: "Failed", ready: draft(ConditionStatus.False, failure.reason, failure.message) };
  if (blocker) return { phase: "Setup", ready: draft(ConditionStatus.False, blocker.reason, blocker.message) };
  if (pipe.spec.state === "Stopped") {
    const left = deployment?.ready ?? 0;
    const msg = left > 0 ? `stopping: ${left} consumer(s) still running` : "stopped on request (spec.state: Stopped); positions are kept";
    return { phase: "Stopped", ready: draft(left > 0 ? ConditionStatus.False : ConditionStatus.True, ConditionReason.Stopped, msg) };
  }
  if (!deployment) return { phase: "Provisioning", ready: draft(ConditionStatus.False, ConditionReason.Reconciling, "creating the consumers (Deployment or StatefulSet)") };
  const desired = cappedReplicas(pipe.spec);
  if (desired === 0) return { phase: "Running", ready: draft(ConditionStatus.True, ConditionReason.ScaledToZero, "scaled to 0 replicas (spec.scaling.replicas: 0)") };
  const message = `${deployment.ready}/${desired} consumers ready`;
  if (deployment.ready >= desired) return { phase: "Running", ready: readyAtCap(draft, pipe.spec.scaling.replicas, desired, message) };
  const phase: PipePhase = pipe.status?.phase === "Running" ? "Running" : "Provisioning";
  return { phase, ready: draft(ConditionStatus.False, ConditionReason.ConsumersNotReady, message) };
}

/** Ready with every consumer up; says so when spec.scaling.replicas asks for more than the source can use. */
function readyAtCap(draft: (status: ConditionStatus, reason: ConditionReason, message: string) => ConditionDraft, asked: number, desired: number, message: string): ConditionDraft {
  if (asked <= desired) return draft(ConditionStatus.True, ConditionReason.ConsumersReady, message);
  const capped = `${message}; spec.scaling.replicas ${asked} is capped at ${desired}, the most this source can use (a CDC slot has one reader)`;
  return draft(ConditionStatus.True, ConditionReason.ReplicasCapped, capped);
}

function reachabilityCondition(type: string, probe: Reachability | undefined, blocker: Blocker | undefined, stopped: boolean): ConditionDraft {
  if (blocker) return { type, status: ConditionStatus.False, reason: blocker.reason, message: blocker.message };
  if (!probe) {
    return { type, status: ConditionStatus.Unknown, reason: stopped ? ConditionReason.Stopped : ConditionReason.Reconciling, message: stopped ? "not checked while the pipe is stopped" : "not checked yet" };
  }
  return { type, status: probe.ok ? ConditionStatus.True : ConditionStatus.False, reason: probe.reason, message: probe.message };
}

function progressingCondition(input: StatusInput, phase: PipePhase, desired: number): ConditionDraft {
  const d = input.deployment;
  const type = ConditionType.Progressing;
  if (phase === "Snapshot") return { type, status: ConditionStatus.True, reason: ConditionReason.SnapshotInProgress, message: "the source is taking its initial snapshot" };
  // A Deployment at 0 replicas rolls out no pod: nothing is progressing until it runs some.
  if (d && desired > 0 && (!d.current || d.updated < desired)) {
    return { type, status: ConditionStatus.True, reason: ConditionReason.RolloutInProgress, message: `${d.updated}/${desired} consumers updated` };
  }
  return { type, status: ConditionStatus.False, reason: ConditionReason.Reconciled, message: "consumers match the spec" };
}

/** Conditions with lastTransitionTime kept from the previous status when their status did not change. */
export function withTransitions(pipe: ClickPipe, drafts: readonly ConditionDraft[], now: Date): Condition[] {
  const gen = pipe.metadata.generation;
  return drafts.map((d) => {
    const prev = previousCondition(pipe, d.type);
    const lastTransitionTime = prev && prev.status === d.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z");
    return { ...d, ...(gen !== undefined ? { observedGeneration: gen } : {}), lastTransitionTime };
  });
}

function latest(a: LastError | undefined, b: LastError | undefined): LastError | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a.time) >= Date.parse(b.time) ? a : b;
}

function countersOf(input: StatusInput): Pick<ClickPipeStatus, "ingested" | "errors"> {
  const prev = input.pipe.status;
  const t = input.totals;
  const ingested = t ? { rows: t.rows, bytes: t.bytes, ...(t.lastInsertTime ? { lastInsertTime: t.lastInsertTime } : {}) } : prev?.ingested;
  if (!t) return { ingested, errors: prev?.errors };
  const last = latest(input.lastRecordError, input.system?.last);
  const errors = {
    records: t.recordErrors,
    system: input.system?.count ?? prev?.errors?.system ?? 0,
    ...(last ? { lastError: { time: last.time, type: last.type, message: last.message.slice(0, 4096) } } : {}),
  };
  return { ingested, errors };
}

export function computeStatus(input: StatusInput): ClickPipeStatus {
  const { pipe } = input;
  const failure = decideFailure(input);
  const { phase, ready } = readyCondition(input, failure);
  const stopped = pipe.spec.state === "Stopped";
  const desired = desiredReplicas({ ...pipe, status: { ...pipe.status, phase } });
  const blockerOn = (on: Blocker["on"]): Blocker | undefined => (input.blocker?.on === on ? input.blocker : undefined);
  const conditions = withTransitions(
    pipe,
    [
      ready,
      reachabilityCondition(ConditionType.SourceReachable, input.source, blockerOn("source"), stopped),
      reachabilityCondition(ConditionType.DestinationReachable, input.destination, blockerOn("destination"), stopped),
      progressingCondition(input, phase, desired),
    ],
    input.now,
  );
  const status: ClickPipeStatus = {
    phase,
    ...(pipe.metadata.generation !== undefined ? { observedGeneration: pipe.metadata.generation } : {}),
    conditions,
    replicas: { desired, ready: input.deployment?.ready ?? 0 },
    selector: `${PIPE_LABEL}=${pipe.metadata.name}`,
    ...countersOf(input),
  };
  const lag = input.lag ?? pipe.status?.lag;
  if (lag !== undefined) status.lag = Math.max(0, lag);
  const snapshot = input.snapshot && input.snapshot.length > 0 ? { tables: input.snapshot.map((t) => ({ ...t })) } : pipe.status?.snapshot;
  if (snapshot) status.snapshot = snapshot;
  return status;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

/** Whether two statuses say the same thing (key order and undefined fields do not matter). */
export function statusEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b ?? {}));
}
