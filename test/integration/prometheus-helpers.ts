/** Helpers of the Prometheus suite: the stack's Prometheus, its targets and rules, the dashboard's queries, processes with a chosen port. */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../stack/env.js";

export type StackEnv = Record<string, string>;

/** One instant-query result row. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** GET /api/v1/query; throws with Prometheus' error for a bad query. */
export async function query(env: StackEnv, promql: string): Promise<Sample[]> {
  const url = new URL("/api/v1/query", env.PROMETHEUS_URL);
  url.searchParams.set("query", promql);
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
  if (body.status !== "success") throw new Error(`prometheus rejected ${promql}: ${body.error ?? res.status}`);
  return body.data?.resultType === "vector" ? (body.data.result ?? []) : [];
}

/** A file_sd target file: Prometheus scrapes `127.0.0.1:<port>` within a second or two. */
export function scrape(env: StackEnv, name: string, ports: readonly number[], labels: Record<string, string>): () => void {
  const file = join(env.PROMETHEUS_TARGETS_DIR!, `${name}.json`);
  // file_sd watches the directory; a rename makes the file appear whole (the .tmp name does not match *.json).
  writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: ports.map((p) => `127.0.0.1:${p}`), labels }]));
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}

/** Installs a rule file and reloads Prometheus; returns its remover. */
export async function installRules(env: StackEnv, name: string, yaml: string): Promise<() => Promise<void>> {
  const file = join(env.PROMETHEUS_RULES_DIR!, `${name}.yaml`);
  writeFileSync(file, yaml);
  await reload(env);
  return async () => {
    rmSync(file, { force: true });
    await reload(env);
  };
}

async function reload(env: StackEnv): Promise<void> {
  const res = await fetch(new URL("/-/reload", env.PROMETHEUS_URL), { method: "POST", signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`prometheus /-/reload answered ${res.status}: ${await res.text()}`);
}

export interface PanelQuery {
  readonly panel: string;
  readonly expr: string;
}

/** Every target of every panel of the chart's dashboard, with its variables set for one pipe. */
export function dashboardQueries(pipe: string, rateInterval = "30s"): PanelQuery[] {
  const dashboard = JSON.parse(readFileSync(join(repoRoot, "charts/clickpipes-operator/dashboards/clickpipes.json"), "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const pipeRegex = pipe.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll("$__rate_interval", rateInterval).replaceAll("$pipe", pipeRegex) })),
  );
}

/** A CLI process (`node --import tsx src/cli/main.ts ...`) with its output collected. */
export class CliProcess {
  out = "";
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static start(args: string[], env: Record<string, string>): CliProcess {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new CliProcess(child);
  }

  /** The port from the start log line `serving /healthz, /readyz and /metrics`. */
  get httpPort(): number | undefined {
    for (const line of this.out.split("\n")) {
      if (!line.includes("serving /healthz")) continue;
      const port = (JSON.parse(line) as { port?: number }).port;
      if (port !== undefined) return port;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    await this.exited;
  }
}
