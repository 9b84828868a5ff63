import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const stateDir = join(repoRoot, ".stack");
export const envFile = join(stateDir, "env");
export const cacheDir = process.env.CLICKPIPES_STACK_CACHE ?? join(homedir(), ".cache", "clickpipes-stack");
export const binDir = join(cacheDir, "bin");

export type StackEnv = Record<string, string>;

/** Parse KEY=VALUE lines (values single-quoted for the shell). */
export function parseEnv(text: string): StackEnv {
  const env: StackEnv = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2] ?? "";
    if (value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1).replaceAll("'\\''", "'");
    env[m[1] as string] = value;
  }
  return env;
}

export function formatEnv(env: StackEnv): string {
  return (
    Object.keys(env)
      .sort()
      .map((k) => `${k}='${(env[k] ?? "").replaceAll("'", "'\\''")}'`)
      .join("\n") + "\n"
  );
}

const partsDir = join(stateDir, "env.d");

export function saveComponentEnv(name: string, env: StackEnv): void {
  mkdirSync(partsDir, { recursive: true });
  writeFileSync(join(partsDir, `${name}.env`), formatEnv(env));
}

export function readComponentEnv(name: string): StackEnv | undefined {
  const f = join(partsDir, `${name}.env`);
  return existsSync(f) ? parseEnv(readFileSync(f, "utf8")) : undefined;
}

export function dropComponentEnv(name: string): void {
  rmSync(join(partsDir, `${name}.env`), { force: true });
}

/** Rebuild `.stack/env` from the env of every running component. */
export function writeCombinedEnv(): StackEnv {
  const env: StackEnv = { STACK_BIN: binDir, STACK_STATE_DIR: stateDir };
  if (existsSync(partsDir)) {
    for (const f of readdirSync(partsDir).sort()) Object.assign(env, parseEnv(readFileSync(join(partsDir, f), "utf8")));
  }
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(envFile, formatEnv(env));
  return env;
}

/** The env of the running stack, for tests, the demo and benchmarks. */
export function loadStackEnv(): StackEnv {
  if (!existsSync(envFile)) throw new Error(`${envFile} is missing: run \`npm run stack -- up\` first`);
  return parseEnv(readFileSync(envFile, "utf8"));
}
