import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { containerPid, killContainer } from "../stack/kube-faults.js";
import { isAlive, run, waitFor } from "../stack/process.js";

/**
 * The test kubelet runs pods scheduled by the real kube-scheduler as local processes:
 * Deployments become Ready through the real controllers, env comes from ConfigMaps and
 * Secrets, crashes are restarted and counted, deletion is graceful.
 */

const env = inject("stackEnv");
const kubectlBin = join(env.STACK_BIN ?? "", "kubectl");
const namespace = `kubelet-${process.pid}-${Date.now() % 100000}`;

function kubectl(args: string[], input?: string): Promise<string> {
  return run(kubectlBin, [...args, "-n", namespace], { env: { KUBECONFIG: env.KUBECONFIG }, input });
}

function apply(...objects: object[]): Promise<string> {
  return kubectl(["apply", "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
}

async function pods(selector: string): Promise<V1Pod[]> {
  return (JSON.parse(await kubectl(["get", "pods", "-l", selector, "-o", "json"])) as { items: V1Pod[] }).items;
}

async function pod(name: string): Promise<V1Pod> {
  return JSON.parse(await kubectl(["get", "pod", name, "-o", "json"])) as V1Pod;
}

function podLog(podName: string, container: string): string {
  const file = join(env.STACK_STATE_DIR ?? "", "pods", `${namespace}_${podName}_${container}.log`);
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

async function eventReasons(podName: string): Promise<string[]> {
  const list = JSON.parse(await kubectl(["get", "events", "--field-selector", `involvedObject.name=${podName}`, "-o", "json"])) as { items: Array<{ reason?: string }> };
  return list.items.map((e) => e.reason ?? "");
}

function isReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The process's own environment, as the kernel sees it. */
function processEnv(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    raw
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

function nodeContainer(name: string, script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: "clickpipes/test:latest", command: ["node", "-e", script], ...extra };
}

const webServer = `
const http = require("http");
const fs = require("fs");
const answer = JSON.stringify({
  greeting: process.env.GREETING,
  token: process.env.API_TOKEN,
  pod: process.env.POD_NAME,
  app: process.env.APP_LABEL,
  hostname: process.env.HOSTNAME,
  settings: fs.readFileSync(process.env.SETTINGS_FILE, "utf8"),
  cwd: process.cwd(),
});
http.createServer((req, res) => res.end(req.url === "/ready" ? "ok" : answer)).listen(Number(process.env.PORT), "127.0.0.1");
console.log("listening on " + process.env.PORT);
`;

const webDeployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        terminationGracePeriodSeconds: 5,
        volumes: [{ name: "settings", configMap: { name: "web-config" } }],
        containers: [
          nodeContainer("web", webServer, {
            ports: [{ name: "http", containerPort: 8080 }],
            resources: { requests: { cpu: "100m", memory: "64Mi" } },
            env: [
              { name: "PORT", value: "8080" },
              { name: "GREETING", valueFrom: { configMapKeyRef: { name: "web-config", key: "greeting" } } },
              { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "web-secret", key: "token" } } },
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "APP_LABEL", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
              { name: "SETTINGS_FILE", value: "/etc/web/settings.json" },
            ],
            volumeMounts: [{ name: "settings", mountPath: "/etc/web" }],
            readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 1 },
            livenessProbe: { httpGet: { path: "/ready", port: 8080 }, initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 3 },
          }),
        ],
      },
    },
  },
};

beforeAll(async () => {
  await run(kubectlBin, ["create", "namespace", namespace], { env: { KUBECONFIG: env.KUBECONFIG } });
  // Pods need the namespace's default ServiceAccount, which the controller-manager creates.
  await waitFor("default ServiceAccount", async () => (await kubectl(["get", "serviceaccount", "default", "-o", "name"])).includes("default"), 60_000, 500);
}, 120_000);

afterAll(async () => {
  await run(kubectlBin, ["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"], { env: { KUBECONFIG: env.KUBECONFIG } });
});

describe("test kubelet", () => {
  it("runs a Deployment's pods as real processes with env from a ConfigMap and a Secret, then scales them away", async () => {
    await apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web-config" }, data: { greeting: "hello from a configmap", "settings.json": '{"level":"debug"}' } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "web-secret" }, stringData: { token: "t0ps3cret" } },
      webDeployment,
    );
    await waitFor(
      "2 ready pods of deployment web",
      async () => {
        const list = await pods("app=web");
        return list.length === 2 && list.every(isReady);
      },
      120_000,
      500,
    );
    await kubectl(["rollout", "status", "deployment/web", "--timeout=60s"]);

    const running = await pods("app=web");
    const pids: number[] = [];
    for (const p of running) {
      const name = p.metadata?.name ?? "";
      expect(p.spec?.nodeName).toBe(env.KUBELET_NODE_NAME);
      expect(p.status?.podIP).toBe("127.0.0.1");
      const pid = containerPid(namespace, name, "web");
      expect(pid, `pid of ${name}`).toBeDefined();
      pids.push(pid!);
      const port = processEnv(pid!).PORT;
      expect(port).not.toBe("8080");
      const answer = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Record<string, string>;
      expect(answer).toEqual({
        greeting: "hello from a configmap",
        token: "t0ps3cret",
        pod: name,
        app: "web",
        hostname: name,
        settings: '{"level":"debug"}',
        cwd: expect.any(String) as string,
      });
      expect(podLog(name, "web")).toContain(`listening on ${port}`);
      // kubectl logs goes apiserver → the kubelet's logs endpoint on the Node's InternalIP.
      expect(await kubectl(["logs", name, "--tail=1"])).toBe(`listening on ${port}\n`);
    }
    expect(new Set(pids).size).toBe(2);

    await kubectl(["scale", "deployment/web", "--replicas=0"]);
    await waitFor("web pods gone", async () => (await pods("app=web")).length === 0, 60_000, 500);
    for (const pid of pids) expect(isAlive(pid), `process ${pid} still alive after scale to 0`).toBe(false);
  });

  it("restarts a crashing container with backoff and counts the restarts", async () => {
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "crasher" },
      spec: { containers: [nodeContainer("main", 'console.log("boom"); process.exit(3)')] },
    });
    await waitFor(
      "crasher restarted at least twice",
      async () => {
        const status = (await pod("crasher")).status?.containerStatuses?.[0];
        return (status?.restartCount ?? 0) >= 2 && status?.lastState?.terminated?.exitCode === 3;
      },
      60_000,
      500,
    );
    const status = (await pod("crasher")).status;
    expect(status?.phase).toBe("Running");
    expect(status?.containerStatuses?.[0]?.lastState?.terminated?.reason).toBe("Error");
    expect(podLog("crasher", "main").match(/boom/g)?.length).toBeGreaterThanOrEqual(3);
    expect(await kubectl(["logs", "crasher"])).toContain("boom");
    await waitFor("Started and BackOff events", async () => {
      const reasons = await eventReasons("crasher");
      return reasons.includes("Started") && reasons.includes("BackOff");
    }, 30_000, 500);
    await kubectl(["delete", "pod", "crasher", "--wait=true", "--timeout=60s"]);
  });

  it("restarts a container killed with SIGKILL and makes it Ready again", async () => {
    await apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "web-config" },
      data: { greeting: "hello", "settings.json": "{}" },
    }, { apiVersion: "v1", kind: "Secret", metadata: { name: "web-secret" }, stringData: { token: "x" } }, {
      ...webDeployment,
      metadata: { name: "victim" },
      spec: {
        ...webDeployment.spec,
        replicas: 1,
        selector: { matchLabels: { app: "victim" } },
        template: { ...webDeployment.spec.template, metadata: { labels: { app: "victim" } } },
      },
    });
    await waitFor("victim ready", async () => (await pods("app=victim")).some(isReady), 120_000, 500);
    const [victim] = await pods("app=victim");
    const name = victim?.metadata?.name ?? "";
    const killed = await killContainer(namespace, name, "web");

    await waitFor(
      "victim restarted and ready",
      async () => {
        const p = await pod(name);
        const s = p.status?.containerStatuses?.[0];
        return (s?.restartCount ?? 0) >= 1 && isReady(p);
      },
      60_000,
      500,
    );
    const s = (await pod(name)).status?.containerStatuses?.[0];
    expect(s?.lastState?.terminated?.exitCode).toBe(137);
    const pid = containerPid(namespace, name, "web");
    expect(pid).toBeDefined();
    expect(pid).not.toBe(killed);
    await kubectl(["delete", "deployment", "victim"]);
  });

  it("restarts a container whose liveness probe fails", async () => {
    const sickly = `
const started = Date.now();
require("http").createServer((req, res) => { res.statusCode = Date.now() - started < 1500 ? 200 : 500; res.end(); }).listen(Number(process.env.PORT), "127.0.0.1");
console.log("serving");`;
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "sickly" },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          nodeContainer("main", sickly, {
            ports: [{ containerPort: 9000 }],
            env: [{ name: "PORT", value: "9000" }],
            livenessProbe: { httpGet: { path: "/healthz", port: 9000 }, periodSeconds: 1, failureThreshold: 2 },
          }),
        ],
      },
    });
    await waitFor("sickly restarted by its liveness probe", async () => ((await pod("sickly")).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 60_000, 500);
    await waitFor("Unhealthy and Killing events", async () => {
      const reasons = await eventReasons("sickly");
      return reasons.includes("Unhealthy") && reasons.includes("Killing");
    }, 30_000, 500);
    await waitFor("a second run of sickly", () => Promise.resolve((podLog("sickly", "main").match(/serving/g)?.length ?? 0) >= 2), 60_000, 500);
    await kubectl(["delete", "pod", "sickly", "--wait=true", "--timeout=60s"]);
  });

  it("terminates gracefully on delete: SIGTERM first, SIGKILL after the grace period", async () => {
    const graceful = "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000);";
    const stubborn = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000);";
    await apply(
      { apiVersion: "v1", kind: "Pod", metadata: { name: "graceful", labels: { test: "termination" } }, spec: { terminationGracePeriodSeconds: 30, containers: [nodeContainer("main", graceful)] } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "stubborn", labels: { test: "termination" } }, spec: { terminationGracePeriodSeconds: 2, containers: [nodeContainer("main", stubborn)] } },
    );
    await waitFor("both pods running", async () => (await pods("test=termination")).filter(isReady).length === 2, 60_000, 500);
    await waitFor("both logged up", () => Promise.resolve(podLog("graceful", "main").includes("up") && podLog("stubborn", "main").includes("up")), 10_000);

    const t0 = Date.now();
    await kubectl(["delete", "pod", "graceful", "--wait=true", "--timeout=60s"]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(podLog("graceful", "main")).toContain("got SIGTERM");

    const t1 = Date.now();
    await kubectl(["delete", "pod", "stubborn", "--wait=true", "--timeout=60s"]);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(2000);
    expect(podLog("stubborn", "main")).toContain("ignoring SIGTERM");
  });

  it("gives a pod its ServiceAccount's identity and RBAC through KUBECONFIG", async () => {
    const listConfigMaps = (name: string): object => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: { restartPolicy: "Never", containers: [{ name: "main", image: "bitnami/kubectl", command: [kubectlBin, "get", "configmaps", "-o", "name"] }] },
    });
    await apply(listConfigMaps("sa-denied"));
    await waitFor("sa-denied finished", async () => (await pod("sa-denied")).status?.phase === "Failed", 60_000, 500);
    expect(podLog("sa-denied", "main")).toContain(`"system:serviceaccount:${namespace}:default" cannot list resource "configmaps"`);

    await apply(
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "read-cm" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }] },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "read-cm" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-cm" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace }],
      },
      listConfigMaps("sa-allowed"),
    );
    await waitFor("sa-allowed finished", async () => (await pod("sa-allowed")).status?.phase === "Succeeded", 60_000, 500);
    expect(podLog("sa-allowed", "main")).toContain("configmap/kube-root-ca.crt");
  });

  it("runs init containers to completion first, sharing an emptyDir with the main container", async () => {
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "with-init" },
      spec: {
        restartPolicy: "OnFailure",
        volumes: [{ name: "work", emptyDir: {} }],
        initContainers: [
          // Paths are rewritten in args and env, not inside scripts: pass them as args.
          nodeContainer("prepare", "require('fs').writeFileSync(process.argv[1], 'prepared by ' + process.env.HOSTNAME)", {
            args: ["/work/ready.txt"],
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          }),
        ],
        containers: [
          nodeContainer("main", "console.log(require('fs').readFileSync(process.argv[1], 'utf8'))", {
            args: ["/work/ready.txt"],
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          }),
        ],
      },
    });
    await waitFor("with-init Succeeded", async () => (await pod("with-init")).status?.phase === "Succeeded", 60_000, 500);
    const status = (await pod("with-init")).status;
    expect(status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(podLog("with-init", "main")).toBe("prepared by with-init\n");
  });

  it("honours restartPolicy Never: exit 0 is Succeeded, exit 1 is Failed", async () => {
    await apply(
      { apiVersion: "v1", kind: "Pod", metadata: { name: "once-ok" }, spec: { restartPolicy: "Never", containers: [nodeContainer("main", "process.exit(0)")] } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "once-bad" }, spec: { restartPolicy: "Never", containers: [nodeContainer("main", "process.exit(1)")] } },
    );
    await waitFor("terminal phases", async () => (await pod("once-ok")).status?.phase === "Succeeded" && (await pod("once-bad")).status?.phase === "Failed", 60_000, 500);
    const bad = (await pod("once-bad")).status?.containerStatuses?.[0];
    expect(bad?.restartCount).toBe(0);
    expect(bad?.state?.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
  });
});
