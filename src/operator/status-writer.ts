import type { Logger } from "pino";
import { API_GROUP_VERSION, ConditionReason, ConditionStatus, ConditionType, KIND, type ClickPipe, type ClickPipeStatus } from "../api/index.js";
import type { Endpoint } from "./clickhouse-readings.js";
import type { ClickHouseSide } from "./clickhouse-setup.js";
import type { EventRecorder } from "./finalizer.js";
import { patchStatus, type ApiRequester } from "./kube/apply.js";
import type { KubeObject } from "./kube/client.js";
import type { PipePhases } from "./metrics.js";
import { namespaceOf } from "./pipe-secrets.js";
import { statusEqual, withTransitions } from "./status.js";

/** The pipes cache also takes what the reconciler wrote, so it never acts on a stale copy. */
export interface PipeStore {
  get(key: string): KubeObject | undefined;
  remember(obj: KubeObject): void;
}

/**
 * Writes a computed status: only when it differs, through the status subresource, with an
 * Event for each phase transition and the system error row of a pipe that failed.
 */
export class StatusWriter {
  constructor(
    private readonly deps: {
      readonly api: ApiRequester;
      readonly pipes: PipeStore;
      readonly clickhouse: ClickHouseSide;
      readonly events: EventRecorder;
      readonly now: () => Date;
      /** Where the phase gauge (clickpipes_operator_pipe_phase) reads each pipe's phase; default the process's. */
      readonly phases?: PipePhases;
    },
  ) {}

  async write(pipe: ClickPipe, obj: KubeObject, status: ClickPipeStatus, endpoint: Endpoint | undefined, log: Logger): Promise<void> {
    const before = pipe.status?.phase;
    if (status.phase !== undefined) this.deps.phases?.set(namespaceOf(pipe), pipe.metadata.name, status.phase);
    if (status.phase !== before) await this.transition(pipe, obj, status, endpoint, log);
    if (!statusEqual(pipe.status, status)) this.deps.pipes.remember(await patchStatus(this.deps.api, namespaceOf(pipe), pipe.metadata.name, status));
  }

  /**
   * A pipe's first phase is not a transition: a Normal Event for it would only say the pipe
   * exists (and cost one API request per new pipe); a Warning one (Setup, Failed) still says why.
   */
  private async transition(pipe: ClickPipe, obj: KubeObject, status: ClickPipeStatus, endpoint: Endpoint | undefined, log: Logger): Promise<void> {
    const before = pipe.status?.phase;
    const ready = status.conditions?.find((c) => c.type === ConditionType.Ready);
    const reason = ready?.reason ?? String(status.phase);
    const message = ready?.message ?? "";
    if (status.phase === "Failed" && endpoint) await this.logFailure(pipe, endpoint, reason, message, log);
    const warn = status.phase === "Failed" || status.phase === "Setup";
    log.info({ from: before, to: status.phase, reason }, "phase changed");
    if (before === undefined && !warn) return;
    await this.deps.events.record(obj, warn ? "Warning" : "Normal", reason, `phase ${before ?? "(none)"} -> ${status.phase}: ${message}`);
  }

  /** The system error row that says why the operator failed the pipe; ClickHouse may be the reason it cannot be written. */
  private async logFailure(pipe: ClickPipe, endpoint: Endpoint, reason: string, message: string, log: Logger): Promise<void> {
    try {
      await this.deps.clickhouse.logSystemError(pipe, endpoint, reason, message);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not write the system error row");
    }
  }

  /** A spec that fails validation: Failed with InvalidSpec until the spec changes. */
  async reportInvalid(obj: KubeObject, message: string, log: Logger): Promise<void> {
    log.warn({ problems: message }, "invalid spec");
    const pipe = { apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, generation: obj.metadata.generation }, status: obj.status } as unknown as ClickPipe;
    const conditions = withTransitions(pipe, [{ type: ConditionType.Ready, status: ConditionStatus.False, reason: ConditionReason.InvalidSpec, message: `the spec is invalid: ${message}` }], this.deps.now());
    const status: ClickPipeStatus = { ...(obj.status as ClickPipeStatus | undefined), phase: "Failed", observedGeneration: obj.metadata.generation, conditions };
    this.deps.phases?.set(obj.metadata.namespace ?? "default", obj.metadata.name, "Failed");
    if (!statusEqual(obj.status, status)) this.deps.pipes.remember(await patchStatus(this.deps.api, obj.metadata.namespace ?? "default", obj.metadata.name, status));
  }
}
