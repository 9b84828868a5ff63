/**
 * HTTP sessions (`session_id`): each gets its own engine connection, so SET, USE and
 * temporary tables live as long as the session. Like clickhouse-server, a session is keyed by
 * user and id, expires after `session_timeout` seconds idle, and a second request arriving
 * while one runs in the same session fails with SESSION_IS_LOCKED instead of waiting.
 */
import type { Engine, EngineConnection } from "./engine.js";
import { FrontError } from "./errors.js";

interface Session {
  readonly conn: EngineConnection;
  timeoutMs: number;
  expiresAt: number;
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly engine: Engine) {
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /** Run `task` on the session's connection, creating the session unless `check` is set. */
  async with<T>(user: string, id: string, opts: { timeoutSec: number; check: boolean; close: boolean }, task: (c: EngineConnection) => Promise<T>): Promise<T> {
    const k = `${user}\u0000${id}`;
    let s = this.sessions.get(k);
    if (s && s.expiresAt < Date.now() && !s.conn.busy) {
      this.drop(k, s);
      s = undefined;
    }
    if (!s) {
      if (opts.check) throw new FrontError(372, "SESSION_NOT_FOUND", `Session ${id} not found`);
      s = { conn: this.engine.connect(true), timeoutMs: 0, expiresAt: 0 };
      this.sessions.set(k, s);
    }
    if (s.conn.busy) throw new FrontError(373, "SESSION_IS_LOCKED", `Session ${id} is locked by a concurrent client`);
    s.timeoutMs = opts.timeoutSec * 1000;
    s.conn.busy = true;
    try {
      return await task(s.conn);
    } finally {
      s.conn.busy = false;
      s.expiresAt = Date.now() + s.timeoutMs;
      if (opts.close) this.drop(k, s);
    }
  }

  /** The database a session chose with USE, if the session exists. */
  database(user: string, id: string): string | undefined {
    return this.sessions.get(`${user}\u0000${id}`)?.conn.stickyDatabase;
  }

  private drop(k: string, s: Session): void {
    this.sessions.delete(k);
    this.engine.close(s.conn);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, s] of this.sessions) if (!s.conn.busy && s.expiresAt < now) this.drop(k, s);
  }
}
