import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../stack/env.js";
import { up } from "../stack/stack.js";
import { adminSecret, applyCrd, createNamespace, deleteNamespace, getPipe, kubectl, OperatorProcess, pipeManifest, suffix } from "../e2e/operator-harness.js";
import { createTopic, produce, waitFor, writePipeFile } from "./ingest-helpers.js";
import { CliProcess, dashboardQueries, installRules, query, scrape, type StackEnv } from "./prometheus-helpers.js";

/**
 * The chart's dashboard and alerts against a real Prometheus (the stack's, started here
 * because only this suite needs it): two `clickpipes run --http-port 0` replicas of a Kafka
 * pipe and an operator are scraped every second; every panel's query answers for the pipe;
 * the rendered PrometheusRule passes `promtool check rules`; ClickPipeFailed fires for a
 * pipe the operator fails (its source unreachable).
 */
const id = suffix();
const ns = `prom-${id}`;
const name = "events";
const pipe = `${ns}/${name}`;
const topic = `prom-${id}`;
const table = `prom_${id}`;
const SOURCE_FAIL_SECONDS = 6;
let env: StackEnv;
let consumers: CliProcess[] = [];
let operator: OperatorProcess | undefined;
const cleanups: (() => void | Promise<void>)[] = [];
let producing: NodeJS.Timeout | undefined;

const tool = (name: string, args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(join(env.STACK_BIN!, name), args, { encoding: "utf8", env: { ...process.env, KUBECONFIG: env.KUBECONFIG } });

beforeAll(async () => {
  // Builds Prometheus into the stack cache on first use (several minutes cold), then starts in a second.
  env = { ...inject("stackEnv"), ...(await up(["prometheus"])) };
  await createTopic(env, topic, 2);
  await produce(env, topic, [{ value: JSON.stringify({ id: 0, msg: "m0" }) }, { value: '{"id": 1, "msg": ' }], 2);
  await applyCrd(env);
  await createNamespace(env, ns);
  await adminSecret(env, ns);
  operator = await OperatorProcess.start(env, { WATCH_NAMESPACES: ns, LEASE_NAMESPACE: ns, RESYNC_SECONDS: "2", PROBE_TIMEOUT_SECONDS: "2", SOURCE_UNREACHABLE_FAIL_SECONDS: String(SOURCE_FAIL_SECONDS) });
  cleanups.push(scrape(env, `operator-${id}`, [operator.port], { component: "operator" }));
}, 30 * 60_000);

afterAll(async () => {
  if (producing) clearInterval(producing);
  for (const c of consumers) await c.stop();
  await kubectl(env, ["-n", ns, "delete", "clickpipes", "--all", "--timeout=60s"]).catch(() => "");
  await operator?.stop();
  for (const cleanup of cleanups.reverse()) await cleanup();
  await deleteNamespace(env, ns);
});

describe("Prometheus: dashboard, alert rules and ports", () => {
  it("runs two `clickpipes run --http-port 0` on one machine, each on its own port, and names the flag when a port is taken", async () => {
    const file = writePipeFile(env, {
      name,
      namespace: ns,
      database: "default",
      table,
      kafka: { brokers: env.KAFKA_BROKERS, topics: topic, format: "JSONEachRow" },
      columns: [
        { name: "id", type: "UInt64" },
        { name: "msg", type: "String" },
      ],
      sortingKey: ["id"],
    });
    consumers = [0, 1].map(() => CliProcess.start(["run", "-f", file, "--http-port", "0"], { CLICKPIPES_HTTP_PORT: "8080" }));
    await waitFor("both consumers to print their port", () => Promise.resolve(consumers.every((c) => c.httpPort !== undefined)), 60_000);
    const ports = consumers.map((c) => c.httpPort!);
    expect(new Set(ports).size).toBe(2);
    for (const port of ports) expect((await fetch(`http://127.0.0.1:${port}/healthz`)).ok).toBe(true);
    cleanups.push(scrape(env, `consumers-${id}`, ports, { component: "consumer" }));
    producing = setInterval(() => {
      produce(env, topic, [{ value: JSON.stringify({ id: Date.now(), msg: "tick" }) }], 2).catch((err: unknown) => console.error(`producing failed: ${String(err)}`));
    }, 1000);

    const taken = CliProcess.start(["run", "-f", file, "--http-port", String(ports[0])], {});
    expect(await taken.exited).toBe(1);
    expect(taken.out).toContain(`clickpipes: HTTP port ${ports[0]} is already in use: choose another with --http-port N`);
    expect(taken.out).not.toMatch(/^\s+at /m);
    const op = spawnSync(process.execPath, [join(repoRoot, "dist/src/cli/main.js"), "operator", "--http-port", String(ports[1])], {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG, WATCH_NAMESPACES: ns, LEADER_ELECT: "false" },
      timeout: 60_000,
    });
    expect(op.status).toBe(1);
    expect(op.stderr.trim()).toBe(`clickpipes operator: HTTP port ${ports[1]} is already in use: choose another with --http-port N (or CLICKPIPES_HTTP_PORT); --http-port 0 picks a free one`);
  });

  it("answers every dashboard panel's query for a running pipe", async () => {
    // The operator knows the same pipe (Stopped, so its own consumers stay off): the phase panel has it too.
    await kubectl(env, ["apply", "-f", "-"], withState(pipeManifest(env, { name, namespace: ns, topic, table }), "Stopped"));
    await waitFor("the operator to report the pipe Stopped", async () => (await getPipe(env, ns, name))?.status?.phase === "Stopped", 120_000);
    const queries = dashboardQueries(pipe);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    const missing = new Map<string, string>();
    await waitFor(
      "every panel to have data",
      async () => {
        missing.clear();
        for (const q of queries) {
          const rows = await query(env, q.expr);
          if (!rows.some((r) => Number.isFinite(Number(r.value[1])))) missing.set(q.panel, q.expr);
        }
        return missing.size === 0;
      },
      180_000,
    ).catch((err: unknown) => {
      throw new Error(`panels without data: ${[...missing].map(([p, e]) => `${p}: ${e}`).join("; ")}`, { cause: err });
    });
    const rows = await query(env, `sum(rate(clickpipes_rows_total{pipe="${pipe}"}[30s]))`);
    expect(Number(rows[0]?.value[1])).toBeGreaterThan(0);
    expect(await query(env, `count(clickpipes_rows_total{pipe="${pipe}"})`)).toMatchObject([{ value: [expect.any(Number), "2"] }]);
  });

  it("fires each alert of the chart, with its default thresholds, on the series that should fire it (promtool test rules)", () => {
    const dir = mkdtempSync(join(tmpdir(), "rules-test-"));
    const spec = renderedRules([]);
    for (const group of spec.groups) for (const rule of group.rules) delete rule.annotations;
    writeFileSync(join(dir, "rules.yaml"), JSON.stringify(spec));
    const series = (name: string, values: string): { series: string; values: string } => ({ series: name, values });
    const at = (minutes: number, alertname: string, exp: Record<string, string>[]): Record<string, unknown> => ({ eval_time: `${minutes}m`, alertname, exp_alerts: exp.map((l) => ({ exp_labels: l })) });
    const tests = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            series('clickpipes_source_lag{pipe="a/lag", stream="t/0", unit="records"}', "0+100x40"),
            series('clickpipes_source_lag{pipe="a/ok", stream="t/0", unit="records"}', "500x40"),
            series('clickpipes_rows_total{pipe="a/ok"}', "0+600x40"),
            series('clickpipes_rows_total{pipe="a/err"}', "0+600x40"),
            series('clickpipes_record_errors_total{pipe="a/err", error_type="DECODE_ERROR"}', "0+60x40"),
            series('clickpipes_record_errors_total{pipe="a/ok", error_type="DECODE_ERROR"}', "0+1x40"),
            series('clickpipes_rows_total{pipe="a/dest"}', "100x40"),
            series('clickpipes_errors_total{pipe="a/dest", error_type="DESTINATION_ERROR", scope="system"}', "0+5x40"),
            series('clickpipes_errors_total{pipe="a/ok", error_type="DESTINATION_ERROR", scope="system"}', "0+5x40"),
            series('clickpipes_operator_pipe_phase{namespace="a", name="f", pipe="a/f", phase="Failed"}', "1x40"),
            series('clickpipes_operator_pipe_phase{namespace="a", name="ok", pipe="a/ok", phase="Failed"}', "0x40"),
          ],
          alert_rule_test: [
            // lag growing: pending from the first minute, firing only once it has grown for 10 minutes
            at(8, "ClickPipeLagGrowing", []),
            at(20, "ClickPipeLagGrowing", [{ severity: "warning", pipe: "a/lag", unit: "records" }]),
            // 1 record error per 10 rows is above 1%; 1 per 600 (a/ok) is not
            at(20, "ClickPipeRecordErrorRatioHigh", [{ severity: "warning", pipe: "a/err" }]),
            // insert errors while no row goes in; a/ok has errors too but keeps inserting
            at(20, "ClickPipeDestinationUnreachable", [{ severity: "critical", pipe: "a/dest" }]),
            at(20, "ClickPipeFailed", [{ severity: "critical", namespace: "a", name: "f", pipe: "a/f" }]),
          ],
        },
      ],
    };
    writeFileSync(join(dir, "tests.yaml"), JSON.stringify(tests));
    const result = tool("promtool", ["test", "rules", join(dir, "tests.yaml")]);
    expect(result.stdout + result.stderr).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });

  it("renders alert rules that promtool accepts, and fires ClickPipeFailed when the operator fails a pipe", async () => {
    const chart = join(repoRoot, "charts/clickpipes-operator");
    const rendered = tool("helm", ["template", "cp", chart, "--show-only", "templates/prometheusrule.yaml", "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.failedFor=0s"]);
    expect(rendered.stderr).toBe("");
    const rule = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as { kind?: string; spec?: { groups: unknown[] } }).find((d) => d?.kind === "PrometheusRule");
    const rulesFile = join(mkdtempSync(join(tmpdir(), "rules-")), "clickpipes.yaml");
    writeFileSync(rulesFile, JSON.stringify({ groups: rule?.spec?.groups }));
    const check = tool("promtool", ["check", "rules", rulesFile]);
    expect(check.stdout + check.stderr).toMatch(/SUCCESS: 4 rules found/);
    expect(check.status).toBe(0);
    cleanups.push(await installRules(env, `clickpipes-${id}`, JSON.stringify({ groups: rule?.spec?.groups })));

    // A pipe whose brokers never answer: Failed after SOURCE_UNREACHABLE_FAIL_SECONDS.
    await kubectl(env, ["apply", "-f", "-"], pipeManifest(env, { name: "unreachable", namespace: ns, topic, table: `${table}_u`, brokers: "127.0.0.1:1" }));
    await waitFor("the operator to fail the pipe", async () => (await getPipe(env, ns, "unreachable"))?.status?.phase === "Failed", 120_000);
    await waitFor(
      "ClickPipeFailed to fire",
      async () => (await query(env, `ALERTS{alertname="ClickPipeFailed", alertstate="firing", pipe="${ns}/unreachable"}`)).length === 1,
      60_000,
    );
    expect(await query(env, `ALERTS{alertname="ClickPipeFailed", pipe="${pipe}"}`)).toEqual([]);
  });
});

/** The chart's rules with their defaults, as a plain rule file (annotations dropped: promtool's unit tests compare them too, and they are prose). */
function renderedRules(sets: string[]): { groups: { rules: Record<string, unknown>[] }[] } {
  const chart = join(repoRoot, "charts/clickpipes-operator");
  const rendered = tool("helm", ["template", "cp", chart, "--show-only", "templates/prometheusrule.yaml", "--set", "metrics.prometheusRule.enabled=true", ...sets.flatMap((x) => ["--set", x])]);
  if (rendered.status !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
  const rule = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as { kind?: string; spec?: { groups: { rules: Record<string, unknown>[] }[] } }).find((d) => d?.kind === "PrometheusRule");
  if (rule?.spec === undefined) throw new Error(`no PrometheusRule in:\n${rendered.stdout}`);
  return rule.spec;
}

function withState(manifest: string, state: string): string {
  const obj = JSON.parse(manifest) as { spec: Record<string, unknown> };
  obj.spec.state = state;
  return JSON.stringify(obj);
}
