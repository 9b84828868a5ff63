import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONSUMER_COMMAND } from "../../src/operator/desired.js";
import { IMAGE_WORKDIR, parseEntrypoint, rewritePath } from "../stack/kubelet/container-spec.js";

/**
 * No Docker engine runs here, so the image is checked by reading it: its WORKDIR and
 * ENTRYPOINT must be what the chart's operator Deployment, the operator's consumer
 * Deployments and the test kubelet (which maps the WORKDIR to the checkout) assume.
 */
const root = join(import.meta.dirname, "../..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");
const dockerfile = read("Dockerfile");

interface Stage {
  name: string;
  base: string;
  instructions: { op: string; args: string }[];
}

/** Dockerfile stages with their instructions (continuation lines joined, comments dropped). */
function stages(text: string): Stage[] {
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
