import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONSUMER_COMMAND } from "../../src/operator/desired.js";
import { IMAGE_WORKDIR, parseEntrypoint, rewritePath } from "../stack/kubelet/container-spec.js";
import { devOnlyPackages, installedPackages, replay, stages, type ReplayResult, type Stage } from "./dockerfile-replay.js";

/**
 * No Docker engine runs here, so the image is checked by reading it: its WORKDIR and
 * ENTRYPOINT must be what the chart's operator Deployment, the operator's consumer
 * Deployments and the test kubelet (which maps the WORKDIR to the checkout) assume.
 */
const root = join(import.meta.dirname, "../..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");
const dockerfile = read("Dockerfile");

function last(stage: Stage, op: string): string | undefined {
  return stage.instructions.filter((i) => i.op === op).at(-1)?.args;
}

const allStages = stages(dockerfile);
const runtime = allStages.at(-1)!;
const entrypoint = parseEntrypoint(dockerfile);

/** The container path of the CLI script, mapped to the checkout the way the test kubelet does. */
function hostPath(containerPath: string): string {
  return rewritePath(containerPath, [[IMAGE_WORKDIR, root]]);
}

describe("Dockerfile", () => {
  it("builds in one stage and ships production dependencies only in another", () => {
    const runs = (s: Stage): string => s.instructions.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
    expect(allStages.length).toBeGreaterThanOrEqual(2);
    expect(allStages.some((s) => /npm ci\b(?!.*--omit=dev)/.test(runs(s)) && /npm run build/.test(runs(s)))).toBe(true);
    expect(allStages.some((s) => /npm ci\b.*--omit=dev/.test(runs(s)))).toBe(true);
    expect(runtime.base).toMatch(/^node:/);
    expect(runs(runtime)).not.toMatch(/npm (ci|install)\b/);
  });

  it("works in /app, the directory the test kubelet maps to the checkout", () => {
    expect(last(runtime, "WORKDIR")).toBe(IMAGE_WORKDIR);
    expect(IMAGE_WORKDIR).toBe("/app");
  });

  it("runs as a non-root user", () => {
    const user = last(runtime, "USER");
    expect(user).toBeDefined();
    expect(user!.split(":")[0]).not.toMatch(/^(root|0)$/);
  });

  it("enters through the CLI that `npm run build` emits and package.json names as the clickpipes bin", () => {
    expect(entrypoint).toEqual(["node", "/app/dist/src/cli/main.js"]);
    const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string> };
    expect(hostPath(entrypoint![1]!)).toBe(join(root, pkg.bin.clickpipes!));
    // tsconfig.build.json compiles src/ with rootDir "." into dist/, so src/cli/main.ts lands there.
    const tsconfig = JSON.parse(read("tsconfig.json")) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(join(root, tsconfig.compilerOptions.outDir, "src/cli/main.js")).toBe(hostPath(entrypoint![1]!));
    expect(read("src/cli/main.ts")).toMatch(/^#!\/usr\/bin\/env node/);
  });

  it("copies the build output to where the entrypoint looks for it", () => {
    const copies = runtime.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copies).toContain("--from=build /app/dist/src ./dist/src");
    expect(copies.some((c) => c.endsWith(" ./node_modules"))).toBe(true);
  });

  it("is what the chart's operator Deployment runs, with the `operator` subcommand", () => {
    const template = read("charts/clickpipes-operator/templates/deployment.yaml");
    const command = /^\s*command:\s*(\[.*\])\s*$/m.exec(template);
    const args = /^\s*args:\s*(\[.*\])\s*$/m.exec(template);
    expect(parse(command![1]!)).toEqual(entrypoint);
    expect(parse(args![1]!)).toEqual(["operator"]);
  });

  it("is what the operator's consumer Deployments run, with the `consume` subcommand", () => {
    expect(CONSUMER_COMMAND).toEqual([...entrypoint!, "consume"]);
  });

  it("sends only the sources the build needs to the build context", () => {
    const ignore = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(ignore[0]).toBe("*");
    for (const needed of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src/"]) {
      expect(ignore).toContain(`!${needed}`);
    }
  });
});

describe("Dockerfile replayed without a container engine", () => {
  let result: ReplayResult | undefined;
  // Three stage trees, two of them with node_modules: removing them takes a while.
  afterAll(async () => {
    await Promise.all([...(result?.roots.values() ?? [])].map((dir) => rm(dir, { recursive: true, force: true })));
  }, 120_000);

  it(
    "builds from the build context alone (`npm ci` with the lock file), and the runtime stage's files run `clickpipes --help` with production dependencies only",
    async () => {
      const t0 = Date.now();
      // The host's npm cache, without revalidating each tarball against the registry: same lock, same packages, faster.
      result = await replay({ root, dockerfile, dockerignore: read(".dockerignore"), env: { npm_config_prefer_offline: "true", npm_config_fund: "false", npm_config_audit: "false" } });
      const runtimeRoot = result.roots.get(runtime.name)!;
      const app = join(runtimeRoot, IMAGE_WORKDIR);

      // The runtime stage holds what the entrypoint needs, and nothing of the build.
      expect(existsSync(join(app, "dist/src/cli/main.js"))).toBe(true);
      expect(existsSync(join(app, "crds/clickpipes.io_clickpipes.yaml"))).toBe(true);
      expect(existsSync(join(app, "src"))).toBe(false);
      const installed = installedPackages(join(app, "node_modules"));
      expect(installed).toContain("@kubernetes/client-node");
      const devOnly = devOnlyPackages(join(root, "package-lock.json"));
      expect(devOnly).toContain("typescript");
      expect(installed.filter((p) => devOnly.includes(p))).toEqual([]);
      expect(installed.some((p) => p.startsWith("@chdb/") || p === "chdb")).toBe(false);

      // The `clickpipes` the image puts on PATH, run with the runtime stage's env and files only.
      const bin = join(runtimeRoot, "usr/local/bin/clickpipes");
      const help = spawnSync(bin, ["--help"], { cwd: app, env: { PATH: process.env.PATH ?? "", ...result.envs.get(runtime.name) }, encoding: "utf8" });
      expect(help.stderr).toBe("");
      expect(help.status).toBe(0);
      for (const command of ["operator", "consume", "run", "validate", "crd"]) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
      // So a slow replay shows up in the test log.
      console.log(`dockerfile replay: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    },
    600_000,
  );
});
