import { ConditionReason, type ClickPipe } from "../api/index.js";
import { sourcePlugin } from "../sources/registry.js";
import type { ConsumerReports, PipeTotals, Reachability, Report, ReportedPhase } from "./status.js";

/**
 * Source and destination health, lag and lifecycle phase of one pipe, decided from what its
 * consumers wrote to ClickHouse (clickpipes_state, clickpipes_log) and, only where no
 * consumer can tell, from the operator's own source probe. Pure: the reconciler feeds it
 * readings; the rules are tested here one by one.
 */

/** A probe result and when it was taken (ms since epoch). */
export interface TimedProbe {
  readonly at: number;
  readonly reachability: Reachability;
  readonly lag?: number;
}

export interface HealthInput {
  readonly pipe: ClickPipe;
  /** Whether ClickHouse answered the operator's reads (admin credentials). */
  readonly readings?: Reachability;
  readonly totals?: PipeTotals;
  readonly reports?: ConsumerReports;
  readonly probe?: TimedProbe;
  /**
   * Whether the pipe's consumers were meant to run as of its last status. A streak only ends
   * with an insert, so while none run (stopped, failed, completed) it is not held against the
   * pipe: otherwise a pipe restarted after a failure would fail again at once on the old row.
   */
  readonly consumersRunning: boolean;
}

export interface PipeHealth {
  /** Absent: not known (SourceReachable Unknown). */
  readonly source?: Reachability;
  readonly destination?: Reachability;
  readonly lag?: number;
  readonly reportedPhase?: ReportedPhase;
}

const REPORTED_PHASES: readonly string[] = ["Snapshot", "Running", "Completed"] satisfies ReportedPhase[];

function ms(time: string | undefined): number {
  const t = time === undefined ? Number.NaN : Date.parse(time);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** When this pipe (not a predecessor of the same name, whose rows share its pipe id) was created. */
function createdMs(pipe: ClickPipe): number {
  const created: unknown = pipe.metadata.creationTimestamp;
  return ms(typeof created === "string" ? created : undefined);
}

/** Whether a pipe's consumers were meant to run as of its last status (see HealthInput.consumersRunning). */
export function consumersRunning(pipe: ClickPipe): boolean {
  const phase = pipe.status?.phase;
  return pipe.spec.state === "Running" && phase !== "Stopped" && phase !== "Failed" && phase !== "Completed";
}

/** The pipe's latest insert, if it is this pipe's own. */
export function ownLastInsertMs(input: Pick<HealthInput, "pipe" | "totals">): number | undefined {
  const t = ms(input.totals?.lastInsertTime);
  return t > Number.NEGATIVE_INFINITY && t >= createdMs(input.pipe) ? t : undefined;
}

/**
 * A failure streak still going: its row (written once, at the first failure) is newer than
 * the pipe's latest insert and belongs to this pipe. A later state row ends the streak.
 */
export function activeStreak(report: Report | undefined, input: Pick<HealthInput, "pipe" | "totals" | "consumersRunning">): Report | undefined {
  if (!report || !input.consumersRunning) return undefined;
  const at = ms(report.time);
  if (at < createdMs(input.pipe)) return undefined;
  const lastInsert = ownLastInsertMs(input);
  return lastInsert === undefined || at > lastInsert ? report : undefined;
}

/** The admin read failing wins (ClickHouse down); else the consumers' refused inserts; else what the read found. */
export function destinationHealth(input: HealthInput): Reachability | undefined {
  if (!input.readings || !input.readings.ok) return input.readings;
  const streak = activeStreak(input.reports?.destinationError, input);
  if (!streak) return input.readings;
  return { ok: false, reason: ConditionReason.DestinationUnreachable, message: `ClickHouse refuses the consumers' inserts since ${streak.time}: ${streak.message}` };
}

/**
 * The consumers' word first: a SOURCE_ERROR streak is False (unless a probe taken after it
 * began reaches the source, as when an idle source came back with nothing new to insert);
 * inserts since creation are True; before any insert, the probe decides (Unknown without one).
 */
export function sourceHealth(input: HealthInput): Reachability | undefined {
  const streak = activeStreak(input.reports?.sourceError, input);
  const probe = input.probe;
  if (streak) {
    if (probe && probe.at > ms(streak.time)) {
      if (probe.reachability.ok) return probe.reachability;
      return { ...probe.reachability, message: `${probe.reachability.message} (consumers since ${streak.time}: ${streak.message})` };
    }
    return { ok: false, reason: ConditionReason.SourceUnreachable, message: `the consumers cannot read the source since ${streak.time}: ${streak.message}` };
  }
  // A source that answers but holds too much for the pipe (a CDC slot's WAL) says so over the inserts.
  if (probe?.reachability.reason === ConditionReason.SlotRetainedWalHigh) return probe.reachability;
  const lastInsert = ownLastInsertMs(input);
  if (lastInsert !== undefined) {
    return { ok: true, reason: ConditionReason.SourceReachable, message: `the consumers read from the source (last insert ${new Date(lastInsert).toISOString()})` };
  }
  return probe?.reachability;
}

/**
 * Whether the operator should probe the source: only for a running pipe whose consumers
 * cannot tell, i.e. that has not inserted yet, or whose consumers report the source failing
 * (a probe can see it come back before any new record does).
 */
export function needsSourceProbe(input: HealthInput): boolean {
  if (sourcePlugin(input.pipe.spec)?.capabilities(input.pipe.spec).watchedByProbe === true) return true;
  if (input.pipe.spec.state !== "Running") return false;
  return ownLastInsertMs(input) === undefined || activeStreak(input.reports?.sourceError, input) !== undefined;
}

/**
 * Lag from the state table once this pipe's consumers wrote there; the probe's before that.
 * Records and bytes behind add up over the streams; milliseconds behind the tip do not, so
 * a source measuring time reports its slowest stream.
 */
export function lagOf(input: HealthInput): number | undefined {
  const totals = input.totals;
  if (ownLastInsertMs(input) !== undefined && totals?.lag !== undefined) {
    const unit = sourcePlugin(input.pipe.spec)?.capabilities(input.pipe.spec).lagUnit;
    return unit === "ms" ? (totals.maxLag ?? totals.lag) : totals.lag;
  }
  return input.probe?.lag;
}

/** The phase the consumers last reported for this pipe. */
export function reportedPhaseOf(input: Pick<HealthInput, "pipe" | "reports">): ReportedPhase | undefined {
  const row = input.reports?.phase;
  if (!row || ms(row.time) < createdMs(input.pipe) || !REPORTED_PHASES.includes(row.message)) return undefined;
  return row.message as ReportedPhase;
}

export function pipeHealth(input: HealthInput): PipeHealth {
  const source = sourceHealth(input);
  const destination = destinationHealth(input);
  const lag = lagOf(input);
  const reportedPhase = reportedPhaseOf(input);
  return { ...(source ? { source } : {}), ...(destination ? { destination } : {}), ...(lag !== undefined ? { lag } : {}), ...(reportedPhase ? { reportedPhase } : {}) };
}
