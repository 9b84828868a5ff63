import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { allComponents, componentLoaders } from "./components.js";
import { binDir, cacheDir, dropComponentEnv, readComponentEnv, repoRoot, saveComponentEnv, stateDir, writeCombinedEnv, type StackEnv } from "./env.js";
import { isAlive, killProcess, sleep } from "./process.js";

function log(message: string): void {
  process.stderr.write(`[stack ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function context(env: StackEnv, previous: StackEnv | undefined): StackContext {
  return { root: repoRoot, cacheDir, stateDir, binDir, env, previous, log };
}

async function load(name: string): Promise<Component> {
  const loader = componentLoaders[name];
  if (!loader) throw new Error(`unknown stack component "${name}" (known: ${allComponents.join(", ")})`);
  return loader();
}

/** Names plus their dependencies, in the registry's start order. */
async function withDependencies(names: readonly string[]): Promise<string[]> {
  const wanted = new Set<string>();
  const visit = async (n: string): Promise<void> => {
    if (wanted.has(n)) return;
    wanted.add(n);
    for (const d of (await load(n)).dependsOn ?? []) await visit(d);
  };
  for (const n of names) await visit(n);
  return allComponents.filter((n) => wanted.has(n));
}

/**
 * Whether the lock's holder is gone: its pid is written right after the directory is made, so
 * a lock without one for more than a few seconds (or an older lock without pids) is stale too.
 */
function staleLock(lock: string): boolean {
  const pidFile = join(lock, "pid");
  try {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
    }
    return Date.now() - statSync(lock).mtimeMs > 10_000;
  } catch (err) {
    // Released between our looks: not stale, the next mkdir takes it.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/**
 * Lock so that a test run and a user's `up` do not start the same component twice. The holder
 * writes its pid; a lock whose holder died (a run killed, or crashed mid-`up`) is taken over at
 * once, so the `down` after a crashed run does not wait out the deadline.
 */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(stateDir, "lock");
  mkdirSync(stateDir, { recursive: true });
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (staleLock(lock)) {
        log(`stack: lock ${lock} was left by a process that is gone; taking it over`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`stack lock ${lock} held for an hour; remove it if no stack command runs`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Provision and start what is missing; idempotent. Returns the combined env. */
export async function up(names: readonly string[] = allComponents): Promise<StackEnv> {
  return withLock(async () => {
    mkdirSync(binDir, { recursive: true });
    const env: StackEnv = { ...writeCombinedEnv() };
    for (const name of await withDependencies(names)) {
      const component = await load(name);
      const previous = readComponentEnv(name);
      const ctx = context(env, previous);
      if (previous && (await component.healthy(ctx, previous))) {
        log(`${name}: already running`);
        Object.assign(env, previous);
        continue;
      }
      const t0 = Date.now();
      await component.provision(ctx);
      log(`${name}: starting`);
      await component.stop(ctx);
      const started = await component.start(ctx);
      saveComponentEnv(name, started);
      Object.assign(env, started);
      log(`${name}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    return writeCombinedEnv();
  });
}

export async function down(names: readonly string[] = allComponents): Promise<void> {
  await withLock(async () => {
    const env = writeCombinedEnv();
    for (const name of [...names].reverse()) {
      const component = await load(name);
      await component.stop(context(env, readComponentEnv(name)));
      dropComponentEnv(name);
      log(`${name}: stopped`);
    }
    writeCombinedEnv();
  });
}

export async function status(): Promise<Record<string, boolean>> {
  const env = writeCombinedEnv();
  const result: Record<string, boolean> = {};
  for (const name of allComponents) {
    const previous = readComponentEnv(name);
    result[name] = previous !== undefined && (await (await load(name)).healthy(context(env, previous), previous));
  }
  return result;
}

/** Fault helper: graceful stop of one component, keeping its env so start() reuses its ports. */
export async function stopComponent(name: string): Promise<void> {
  const component = await load(name);
  await component.stop(context(writeCombinedEnv(), readComponentEnv(name)));
}

/** Fault helper: start a stopped component again on its previous ports. */
export async function startComponent(name: string): Promise<StackEnv> {
  const component = await load(name);
  const previous = readComponentEnv(name);
  const started = await component.start(context(writeCombinedEnv(), previous));
  saveComponentEnv(name, started);
  return writeCombinedEnv();
}

/** Fault helper: kill -9 every process the component recorded (pid files named `<name>` or `<name>-*`). */
export async function killComponent(name: string): Promise<void> {
  const ctx = context(writeCombinedEnv(), readComponentEnv(name));
  const pidDir = join(stateDir, "pids");
  let files: string[] = [];
  try {
    files = readdirSync(pidDir);
  } catch {
    files = [];
  }
  for (const f of files) {
    const base = f.replace(/\.pid$/, "");
    if (base === name || base.startsWith(`${name}-`)) await killProcess(ctx, base);
  }
}

/** Fault helper: the component refuses connections for `seconds`, then comes back on the same ports. */
export async function outage(name: string, seconds: number): Promise<void> {
  await stopComponent(name);
  await sleep(seconds * 1000);
  await startComponent(name);
}
