import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runValidate } from "../../../src/cli/validate.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const invalidDir = join(root, "test/unit/manifests/invalid");
const examplesDir = join(root, "examples");

const invalidFiles = readdirSync(invalidDir)
  .filter((name) => name.endsWith(".yaml"))
  .sort();
const exampleFiles = readdirSync(examplesDir)
  .filter((name) => name.endsWith(".yaml"))
  .sort();

/** `# expect: <field path>` header lines: every path `clickpipes validate` must report, and no other. */
function expectedPaths(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(/^# expect: (\S+)$/gm)].map((match) => match[1]!);
}

async function validate(file: string): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runValidate([file], (line) => lines.push(line));
  return { code, lines };
}

describe("clickpipes validate on the invalid manifest corpus", () => {
  it("holds at least 50 invalid manifests, each naming its expected field path", () => {
    expect(invalidFiles.length).toBeGreaterThanOrEqual(50);
    for (const name of invalidFiles) expect(expectedPaths(join(invalidDir, name)), name).not.toHaveLength(0);
  });

  it.each(invalidFiles)("rejects %s with exactly the expected field paths", async (name) => {
    const file = relative(root, join(invalidDir, name));
    const { code, lines } = await validate(join(root, file));
    expect(code).toBe(1);
    const linePattern = /^(.+):(\d+) (\S+): (.+) \((.+)\)$/s;
    const reported = lines.map((line) => {
      const match = linePattern.exec(line);
      expect(match, `line has the form <file>:<doc> <path>: <wrong> (<accepted>): ${line}`).not.toBeNull();
      return match![3];
    });
    expect(new Set(reported), lines.join("\n")).toEqual(new Set(expectedPaths(join(root, file))));
  });
});

describe("clickpipes validate on the examples", () => {
  it("has one example per documented source", () => {
    expect(exampleFiles).toEqual(
      expect.arrayContaining([
        "kafka-json.yaml",
        "kafka-avro-registry.yaml",
        "kafka-scram-tls.yaml",
        "kinesis.yaml",
        "s3.yaml",
        "postgres-cdc.yaml",
      ]),
    );
  });

  it.each(exampleFiles)("accepts %s", async (name) => {
    const { code, lines } = await validate(join(examplesDir, name));
    expect(lines.join("\n")).toMatch(/: valid$/);
    expect(code).toBe(0);
  });
});

describe("the clickpipes binary", () => {
  function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: root, timeout: 60_000 }, (error, stdout) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout });
      });
    });
  }

  it("exits 0 for valid files and 1 with one line per problem otherwise", { timeout: 120_000 }, async () => {
    const valid = await cli("validate", "-f", "examples/kafka-json.yaml", "examples/postgres-cdc.yaml");
    expect(valid.code).toBe(0);
    const invalid = await cli("validate", "-f", "examples/kafka-json.yaml", "test/unit/manifests/invalid/008-replicas-11.yaml");
    expect(invalid).toEqual({
      code: 1,
      stdout: "test/unit/manifests/invalid/008-replicas-11.yaml:1 spec.scaling.replicas: 11 is too large (at most 10)\n",
    });
  });

  it("prints the checked-in CRD", { timeout: 60_000 }, async () => {
    const printed = await cli("crd");
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(readFileSync(join(root, "crds/clickpipes.io_clickpipes.yaml"), "utf8"));
  });
});
