/**
 * Replays a Dockerfile without a container engine, for test/unit/dockerfile.test.ts: each
 * stage gets a temp directory standing for its root filesystem; COPY takes the files the
 * build context holds after .dockerignore (or another stage's files with --from); RUN runs
 * the few commands this project's Dockerfile uses, for real, in the stage's WORKDIR. A RUN
 * command it does not know fails the replay, so the Dockerfile cannot outgrow the check.
 * The base image's node and npm are the host's.
 */
import { execFile } from "node:child_process";
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface Instruction {
  readonly op: string;
  readonly args: string;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: Instruction[];
}

/** Dockerfile stages with their instructions (continuation lines joined, comments dropped). */
export function stages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const result: Stage[] = [];
  for (const line of lines) {
    const [op = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op.toUpperCase() === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      result.push({ base: m?.[1] ?? "", name: m?.[2] ?? String(result.length), instructions: [] });
    } else {
      result.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return result;
}

/** A .dockerignore pattern as a regex over slash paths (Go filepath.Match plus `**`). */
function patternRegex(pattern: string): RegExp {
  const clean = posix.normalize(pattern.replace(/^\/+/, "")).replace(/\/+$/, "");
  let re = "";
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    if (c === "*" && clean[i + 1] === "*") {
      re += clean[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += clean[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Docker's rule: the last pattern matching the path or one of its parent directories decides. */
export function dockerIgnore(text: string): (path: string) => boolean {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => (l.startsWith("!") ? { keep: true, re: patternRegex(l.slice(1)) } : { keep: false, re: patternRegex(l) }));
  return (path: string): boolean => {
    const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.keep;
    return ignored;
  };
}

/** Every file of the build context, relative slash paths; skips directories nothing could re-include. */
export function contextFiles(root: string, ignored: (path: string) => boolean, dockerignore: string): string[] {
  const reincluded = dockerignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("!"))
    .map((l) => l.slice(1).replace(/^\/+/, ""));
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (ignored(path) && !reincluded.some((p) => p.startsWith(`${path}/`) || p === path || p === `${path}/`)) continue;
        walk(path);
      } else if (!ignored(path)) files.push(path);
    }
  };
  walk("");
  return files;
}

export interface ReplayOptions {
  readonly root: string;
  readonly dockerfile: string;
  readonly dockerignore: string;
  /** Extra environment of RUN commands (e.g. npm's cache settings). */
  readonly env?: Record<string, string>;
  readonly log?: (message: string) => void;
}

export interface ReplayResult {
  /** Root directory of each stage, by name. */
  readonly roots: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
  /** ENV of each stage. */
  readonly envs: ReadonlyMap<string, Record<string, string>>;
}

interface StageState {
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
}

const inRoot = (state: StageState, path: string): string => join(state.root, posix.isAbsolute(path) ? path : posix.join(state.workdir, path));

function copy(state: StageState, args: string, context: { root: string; files: readonly string[] }, roots: ReadonlyMap<string, string>): void {
  const words = args.split(/\s+/);
  const from = words[0]?.startsWith("--from=") ? words.shift()!.slice("--from=".length) : undefined;
  const dest = words.pop()!;
  const target = inRoot(state, dest);
  for (const src of words) {
    if (from !== undefined) {
      const fromRoot = roots.get(from);
      if (fromRoot === undefined) throw new Error(`COPY --from=${from}: no such stage (or it has not run)`);
      cpSync(join(fromRoot, src), target, { recursive: true, verbatimSymlinks: true });
      continue;
    }
    const rel = posix.normalize(src).replace(/\/+$/, "");
    const taken = context.files.filter((f) => f === rel || f.startsWith(`${rel}/`));
    if (taken.length === 0) throw new Error(`COPY ${src}: nothing in the build context (check .dockerignore)`);
    for (const f of taken) {
      // `COPY a b ./` puts files into the directory; `COPY dir ./dir` copies the directory's contents.
      const out = f === rel ? (dest.endsWith("/") || words.length > 1 ? join(target, posix.basename(f)) : target) : join(target, f.slice(rel.length + 1));
      mkdirSync(dirname(out), { recursive: true });
      cpSync(join(context.root, f), out);
    }
  }
}

/** One `&&`-separated command of a RUN line. */
async function runCommand(state: StageState, command: string, opts: ReplayOptions): Promise<void> {
  const words = command.trim().split(/\s+/);
  const cwd = inRoot(state, ".");
  if (words[0] === "npm" && words[1] === "cache" && words[2] === "clean") {
    // In the image this empties /root/.npm; here it would wipe the host's shared npm cache.
    return;
  }
  if (words[0] === "npm" && (words[1] === "ci" || words[1] === "run")) {
    opts.log?.(`RUN ${command} (in ${cwd})`);
    await exec("npm", words.slice(1), { cwd, env: { ...process.env, ...state.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
    return;
  }
  if (words[0] === "ln" && words[1] === "-s" && words.length === 4) {
    const link = inRoot(state, words[3]!);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(inRoot(state, words[2]!), link);
    return;
  }
  if (words[0] === "chmod" && words.length === 3) {
    chmodSync(inRoot(state, words[2]!), parseInt(words[1]!, 8));
    return;
  }
  throw new Error(`the Dockerfile replay does not know the RUN command \`${command}\`: teach test/unit/dockerfile-replay.ts what it does`);
}

async function runStage(stage: Stage, state: StageState, context: { root: string; files: readonly string[] }, roots: ReadonlyMap<string, string>, opts: ReplayOptions): Promise<void> {
  for (const { op, args } of stage.instructions) {
    if (op === "WORKDIR") {
      state.workdir = posix.resolve(state.workdir, args);
      mkdirSync(inRoot(state, "."), { recursive: true });
    } else if (op === "ENV") {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)[= ](.*)$/.exec(args);
      if (m) state.env[m[1]!] = m[2]!;
    } else if (op === "COPY") copy(state, args, context, roots);
    else if (op === "RUN") for (const command of args.split("&&")) await runCommand(state, command, opts);
    // ARG, USER, ENTRYPOINT, CMD change nothing on disk.
  }
}

/** Runs every stage, each once its --from stages are done (independent stages in parallel, as BuildKit does). */
export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const all = stages(opts.dockerfile);
  const files = contextFiles(opts.root, dockerIgnore(opts.dockerignore), opts.dockerignore);
  const context = { root: opts.root, files };
  const roots = new Map<string, string>();
  const envs = new Map<string, Record<string, string>>();
  const done = new Map<string, Promise<void>>();
  const runOne = (stage: Stage): Promise<void> => {
    const existing = done.get(stage.name);
    if (existing) return existing;
    const needs = stage.instructions.flatMap((i) => (i.op === "COPY" ? [/--from=(\S+)/.exec(i.args)?.[1]] : [])).filter((n): n is string => n !== undefined);
    const promise = (async (): Promise<void> => {
      for (const n of needs) {
        const dep = all.find((s) => s.name === n);
        if (dep === undefined) throw new Error(`stage ${stage.name} copies from unknown stage ${n}`);
        await runOne(dep);
      }
      const root = mkdtempSync(join(tmpdir(), `replay-${stage.name}-`));
      roots.set(stage.name, root);
      const state: StageState = { root, workdir: "/", env: {} };
      envs.set(stage.name, state.env);
      await runStage(stage, state, context, roots, opts);
    })();
    done.set(stage.name, promise);
    return promise;
  };
  await Promise.all(all.map(runOne));
  return { roots, stages: all, envs };
}

/** Package names installed in a node_modules directory (scoped ones as @scope/name). */
export function installedPackages(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  return readdirSync(nodeModules)
    .filter((n) => !n.startsWith("."))
    .flatMap((n) => (n.startsWith("@") && lstatSync(join(nodeModules, n)).isDirectory() ? readdirSync(join(nodeModules, n)).map((s) => `${n}/${s}`) : [n]));
}

/** Top-level packages the lock file installs for development only (`"dev": true`): none may reach the image. */
export function devOnlyPackages(packageLock: string): string[] {
  const lock = JSON.parse(readFileSync(packageLock, "utf8")) as { packages?: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages ?? {})
    .filter(([path, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
    .map(([path]) => path.slice("node_modules/".length));
}
