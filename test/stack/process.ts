import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { StackContext } from "./component.js";

/** A free TCP port on 127.0.0.1 (bound then released; good enough for a single-user test machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no port"));
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be bound now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * The port of the URL a component published last time when it is still free, so a restarted
 * component keeps its address; a fresh free port otherwise.
 */
export async function previousPortOrFree(previousUrl: string | undefined): Promise<number> {
  const previous = Number(new URL(previousUrl ?? "http://x:0").port);
  if (previous > 0 && (await portIsFree(previous))) return previous;
  return freePort();
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/**
 * Start a long-running process detached from the CLI (it outlives `npm run stack -- up`),
 * stdout/stderr appended to `.stack/logs/<name>.log`, pid recorded under `.stack/pids/`.
 */
export function spawnDetached(ctx: StackContext, name: string, cmd: string, args: string[], opts: SpawnOptions = {}): number {
  const logDir = join(ctx.stateDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const fd = openSync(join(logDir, `${name}.log`), "a");
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? ctx.root,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`failed to spawn ${name}: ${cmd}`);
  child.unref();
  recordPid(ctx, name, child.pid);
  return child.pid;
}

function pidFile(ctx: StackContext, name: string): string {
  return join(ctx.stateDir, "pids", `${name}.pid`);
}

export function recordPid(ctx: StackContext, name: string, pid: number): void {
  mkdirSync(join(ctx.stateDir, "pids"), { recursive: true });
  writeFileSync(pidFile(ctx, name), String(pid));
}

export function readPid(ctx: StackContext, name: string): number | undefined {
  const f = pidFile(ctx, name);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM the recorded process group, SIGKILL after graceMs, and forget the pid. */
export async function stopProcess(ctx: StackContext, name: string, graceMs = 10_000): Promise<void> {
  const pid = readPid(ctx, name);
  if (pid !== undefined && isAlive(pid)) {
    signalGroup(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signalGroup(pid, "SIGKILL");
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(ctx, name), { force: true });
}

/** kill -9 without waiting for shutdown hooks (fault injection). */
export async function killProcess(ctx: StackContext, name: string): Promise<void> {
  const pid = readPid(ctx, name);
  if (pid !== undefined && isAlive(pid)) {
    signalGroup(pid, "SIGKILL");
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(ctx, name), { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    process.kill(pid, signal);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until it returns true; throws with `what` and the last error after timeoutMs. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  const detail = last instanceof Error ? `: ${last.message}` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

/** Run a command to completion, streaming nothing; rejects with its output on a non-zero exit. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    // A child that could not be started, or exited before reading its input, closes its stdin:
    // the write fails with EPIPE. Unhandled, that 'error' event kills the whole test run; the
    // child's own outcome ('error' or its exit code, below) is what the caller must see.
    let stdinError = "";
    child.stdin.on("error", (err: Error) => (stdinError = `\n(writing its stdin: ${err.message})`));
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", (err) => reject(new Error(`${cmd} ${args.join(" ")} could not run: ${err.message}`, { cause: err })));
    child.on("close", (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code ?? signal}:\n${out.slice(-4000)}${stdinError}`)),
    );
    child.stdin.end(opts.input ?? "");
  });
}
