/**
 * Prometheus for the local stack: the real server (and promtool), built from the Go module
 * proxy into the cache by prometheus-build.sh, bound to 127.0.0.1. Scrape targets are
 * file_sd JSON files a test writes into PROMETHEUS_TARGETS_DIR (picked up within a second);
 * rule files go into PROMETHEUS_RULES_DIR, loaded on POST /-/reload. Scrapes and rule
 * evaluations run every second so a test sees rates and alerts quickly.
 *
 * Only the suites that use it start it (`up(["prometheus"])`, see global-setup.ts), so a
 * run that does not need it pays neither the build nor the process.
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, spawnDetached, stopProcess, waitFor } from "./process.js";

export const PROMETHEUS_VERSION = "v0.316.0";
const pidName = "prometheus";

function promBinDir(ctx: StackContext): string {
  return join(ctx.cacheDir, `prometheus-${PROMETHEUS_VERSION}`, "bin");
}

function stateOf(ctx: StackContext): { dir: string; targets: string; rules: string; data: string; config: string } {
  const dir = join(ctx.stateDir, "prometheus");
  return { dir, targets: join(dir, "targets"), rules: join(dir, "rules"), data: join(dir, "data"), config: join(dir, "prometheus.yml") };
}

/** Runs prometheus-build.sh, relaying its progress lines (a cold build takes several minutes). */
function build(ctx: StackContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ctx.root, "test/stack/prometheus-build.sh")], {
      env: { ...process.env, CLICKPIPES_STACK_CACHE: ctx.cacheDir, PROMETHEUS_VERSION },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const onData = (d: Buffer): void => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.startsWith("[prometheus-build")) ctx.log(line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`prometheus-build.sh exited ${code}:\n${tail}`))));
  });
}


/** The configuration: every second, targets and rules from the state dir. */
export function prometheusConfig(targetsDir: string, rulesDir: string): string {
  return [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
    "rule_files:",
    `  - ${JSON.stringify(join(rulesDir, "*.yaml"))}`,
    "scrape_configs:",
    "  - job_name: clickpipes",
    "    file_sd_configs:",
    `      - files: [${JSON.stringify(join(targetsDir, "*.json"))}]`,
    "        refresh_interval: 1s",
    "",
  ].join("\n");
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(new URL("/-/ready", url), { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

export const prometheus: Component = {
  name: "prometheus",

  async provision(ctx: StackContext): Promise<void> {
    await build(ctx);
    mkdirSync(ctx.binDir, { recursive: true });
    for (const tool of ["prometheus", "promtool"]) {
      const link = join(ctx.binDir, tool);
      rmSync(link, { force: true });
      symlinkSync(join(promBinDir(ctx), tool), link);
    }
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const s = stateOf(ctx);
    for (const d of [s.targets, s.rules, s.data]) mkdirSync(d, { recursive: true });
    writeFileSync(s.config, prometheusConfig(s.targets, s.rules));
    const port = await previousPortOrFree(ctx.previous?.PROMETHEUS_URL);
    const url = `http://127.0.0.1:${port}`;
    const pid = spawnDetached(ctx, pidName, join(promBinDir(ctx), "prometheus"), [
      `--config.file=${s.config}`,
      `--storage.tsdb.path=${s.data}`,
      "--storage.tsdb.retention.time=1d",
      `--web.listen-address=127.0.0.1:${port}`,
      // POST /-/reload: tests add rule files at run time.
      "--web.enable-lifecycle",
      "--log.level=warn",
    ]);
    await waitFor(
      `prometheus on ${url}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`prometheus exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
        return ready(url);
      },
      60_000,
      200,
    );
    ctx.log(`prometheus: ${PROMETHEUS_VERSION} on ${url}`);
    return { PROMETHEUS_URL: url, PROMETHEUS_TARGETS_DIR: s.targets, PROMETHEUS_RULES_DIR: s.rules };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const url = env.PROMETHEUS_URL;
    return url !== undefined && isAlive(readPid(ctx, pidName)) && (await ready(url));
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 10_000);
  },
};
