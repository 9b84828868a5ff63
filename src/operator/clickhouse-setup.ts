import type { Logger } from "pino";
import { ConditionReason, pipeId, type ClickPipe } from "../api/index.js";
import type { Endpoint } from "./clickhouse-readings.js";
import { DestinationUnavailableError, type SetupOutcome } from "./clickhouse-ops.js";
import type { Blocker, Reachability } from "./status.js";

/** The ClickHouse side, as the reconciler uses it (ClickHouseOps implements it). */
export interface ClickHouseSide {
  setup(pipe: ClickPipe, endpoint: Endpoint, password: string, previousGrants?: string): Promise<SetupOutcome>;
  dropUser(pipe: ClickPipe, endpoint: Endpoint): Promise<void>;
  logSystemError(pipe: ClickPipe, endpoint: Endpoint, errorType: string, message: string): Promise<void>;
}

export interface SetupResult {
  readonly ok: boolean;
  readonly blocker?: Blocker;
  readonly endpoint?: Endpoint;
  /** Set when setup could not reach ClickHouse. */
  readonly destination?: Reachability;
  /** The fingerprint of the grants the pipe's user has after this setup, when it ran. */
  readonly grants?: string;
}

/** Setup (idempotent DDL and grants) is redone this often even when nothing changed, to repair drift. */
const SETUP_REFRESH_MS = 10 * 60_000;

interface SetupMemo {
  readonly fingerprint: string;
  readonly at: number;
}

/**
 * Runs a pipe's ClickHouse setup (tables, its user and grants) when its spec or credentials
 * changed, or every SETUP_REFRESH_MS, and not at all while it is stopped.
 */
export class ClickHouseSetup {
  private readonly done = new Map<string, SetupMemo>();

  constructor(
    private readonly clickhouse: ClickHouseSide,
    private readonly now: () => Date,
  ) {}

  forget(key: string): void {
    for (const k of this.done.keys()) if (k.startsWith(`${key}|`)) this.done.delete(k);
  }

  /** `user`: the pipe user's password and the grants fingerprint recorded for it, if any. */
  async ensure(pipe: ClickPipe, endpoint: Endpoint, user: { password: string; previousGrants?: string }, running: boolean, log: Logger): Promise<SetupResult> {
    const { password, previousGrants } = user;
    const memoKey = `${pipeId(pipe)}|${pipe.metadata.uid ?? ""}`;
    const fingerprint = JSON.stringify([pipe.metadata.generation, endpoint.url, endpoint.username, endpoint.password, password]);
    const memo = this.done.get(memoKey);
    const fresh = memo && memo.fingerprint === fingerprint && this.now().getTime() - memo.at < SETUP_REFRESH_MS;
    if (fresh) return { ok: true };
    // Nothing writes for a stopped pipe: its tables and user are set up when it first runs.
    if (!running) return { ok: false };
    try {
      const outcome = await this.clickhouse.setup(pipe, endpoint, password, previousGrants);
      if (!outcome.ok) {
        log.warn({ reason: outcome.blocker.reason }, outcome.blocker.message);
        return { ok: false, blocker: outcome.blocker };
      }
      this.done.set(memoKey, { fingerprint, at: this.now().getTime() });
      log.info("ClickHouse tables and pipe user are set up");
      return { ok: true, ...(outcome.grants === undefined ? {} : { grants: outcome.grants }) };
    } catch (error) {
      if (!(error instanceof DestinationUnavailableError)) throw error;
      log.warn({ err: error.message }, "ClickHouse unreachable during setup");
      return { ok: false, destination: { ok: false, reason: ConditionReason.DestinationUnreachable, message: `ClickHouse did not answer: ${error.message}` } };
    }
  }
}
