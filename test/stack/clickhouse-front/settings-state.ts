/**
 * Settings bookkeeping for one engine connection. chDB keeps SET values in the connection's
 * session context, so the front moves each connection from whatever it last applied to what
 * the next query needs (server defaults, then the session's own SETs, then URL settings),
 * issuing only the differences. Pure: it computes statements, the engine runs them.
 */
import { quoteIdentifier, quoteString } from "./sql.js";

export class SettingsState {
  /** What the connection currently holds, for every setting the front ever changed on it. */
  private readonly applied = new Map<string, string>();
  /** Settings the connection's user changed with SET (kept for a session's lifetime). */
  readonly sticky = new Map<string, string>();
  private knownGood = true;

  constructor(
    /** The engine's own value for each setting, read on a fresh connection. */
    private readonly engineDefaults: ReadonlyMap<string, string>,
    private readonly serverDefaults: ReadonlyMap<string, string>,
  ) {}

  /** The full desired state for a query with these URL settings. */
  desired(urlSettings: ReadonlyMap<string, string>): Map<string, string> {
    return new Map([...this.serverDefaults, ...this.sticky, ...urlSettings]);
  }

  /** Assignments that move the connection to `desired` (empty when nothing changes). */
  plan(desired: ReadonlyMap<string, string>): Map<string, string> {
    const changes = new Map<string, string>();
    for (const [name, value] of desired) {
      if (!this.knownGood || this.applied.get(name) !== value) changes.set(name, value);
    }
    for (const [name, value] of this.applied) {
      if (desired.has(name)) continue;
      const back = this.engineDefaults.get(name);
      if (back !== undefined && (!this.knownGood || value !== back)) changes.set(name, back);
    }
    return changes;
  }

  /** Record that `changes` now hold on the connection. */
  commit(changes: ReadonlyMap<string, string>): void {
    for (const [name, value] of changes) this.applied.set(name, value);
    this.knownGood = true;
  }

  /** A SET failed part-way: the next plan re-asserts every value the front tracks. */
  invalidate(): void {
    this.knownGood = false;
  }

  /** The user ran SET on this connection; `values` are what the engine now reports. */
  observe(values: ReadonlyMap<string, string>, sticky: boolean): void {
    for (const [name, value] of values) {
      this.applied.set(name, value);
      if (sticky) this.sticky.set(name, value);
    }
  }
}

/** `SET a = 'x', b = 'y'`: every value as a string literal, which ClickHouse converts to the setting's type. */
export function setStatement(changes: ReadonlyMap<string, string>): string {
  return "SET " + [...changes].map(([k, v]) => `${quoteIdentifier(k)} = ${quoteString(v)}`).join(", ");
}
