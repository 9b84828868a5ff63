import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import type { ResolvedContainer } from "./container-spec.js";

/**
 * Container processes on the host. Each runs in its own process group so a signal reaches
 * the whole tree (a shell and what it starts). The group ids are persisted so a kubelet
 * killed with -9 cleans up its orphans on the next start.
 */

export function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}

export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

export class ChildRegistry {
  private readonly pids = new Set<number>();
  private readonly file: string;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, "children.json");
  }

  /** Kill process groups left behind by a previous kubelet that died without cleaning up. */
  killOrphans(): number {
    if (!existsSync(this.file)) return 0;
    const pids = JSON.parse(readFileSync(this.file, "utf8")) as number[];
    const killed = pids.filter((pid) => signalGroup(pid, "SIGKILL")).length;
    rmSync(this.file, { force: true });
    return killed;
  }

  add(pid: number): void {
    this.pids.add(pid);
    this.save();
  }

  delete(pid: number): void {
    this.pids.delete(pid);
    this.save();
  }

  /** Synchronous so it can run from process.on("exit"). */
  killAll(signal: NodeJS.Signals): void {
    for (const pid of this.pids) signalGroup(pid, signal);
  }

  get size(): number {
    return this.pids.size;
  }

  private save(): void {
    writeFileSync(this.file, JSON.stringify([...this.pids]));
  }
}

export interface StartedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
}

/** Spawn a resolved container with stdout and stderr appended to its log file. */
export function startProcess(resolved: ResolvedContainer, logFile: string): StartedProcess | Error {
  mkdirSync(join(logFile, ".."), { recursive: true });
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(resolved.file, resolved.args, {
      cwd: resolved.cwd,
      env: resolved.env,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    if (child.pid === undefined) {
      // spawn reports ENOENT and friends asynchronously; the pid is what tells us now.
      child.on("error", () => undefined);
      return new Error(`exec ${resolved.file}: not found or not executable (cwd ${resolved.cwd})`);
    }
    return { child, pid: child.pid };
  } finally {
    closeSync(fd);
  }
}
