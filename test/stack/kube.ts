import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { freePort, isAlive, readPid, run, spawnDetached, stopProcess, waitFor } from "./process.js";

/**
 * The real Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler, built from the Go module proxy by kube-build.sh and started on loopback
 * with token auth and RBAC, the way envtest starts them.
 */

export const KUBE_VERSION = "v1.36.3";
export const ETCD_VERSION = "v3.6.16";
export const HELM_VERSION = "v3.21.4";

export const ADMIN_TOKEN = "admin-token";

const PROCESSES = ["kube-scheduler", "kube-controller-manager", "kube-apiserver", "kube-etcd"] as const;

export function kubeBinDir(ctx: StackContext): string {
  return join(ctx.cacheDir, `kube-${KUBE_VERSION}`, "bin");
}

/** Every path and port of one control plane; derived from ctx so a restart finds the same ones. */
export interface KubeLayout {
  readonly dir: string;
  readonly pki: string;
  readonly kubeconfig: string;
  readonly etcdPort: number;
  readonly etcdPeerPort: number;
  readonly apiserverPort: number;
  readonly controllerManagerPort: number;
  readonly schedulerPort: number;
}

async function portFrom(previous: Readonly<Record<string, string>> | undefined, key: string): Promise<number> {
  const value = Number(previous?.[key]);
  return Number.isInteger(value) && value > 0 ? value : freePort();
}

export async function kubeLayout(ctx: StackContext): Promise<KubeLayout> {
  const dir = join(ctx.stateDir, "kube");
  return {
    dir,
    pki: join(dir, "pki"),
    kubeconfig: join(ctx.stateDir, "kubeconfig"),
    etcdPort: await portFrom(ctx.previous, "KUBE_ETCD_PORT"),
    etcdPeerPort: await portFrom(ctx.previous, "KUBE_ETCD_PEER_PORT"),
    apiserverPort: await portFrom(ctx.previous, "KUBE_APISERVER_PORT"),
    controllerManagerPort: await portFrom(ctx.previous, "KUBE_CONTROLLER_MANAGER_PORT"),
    schedulerPort: await portFrom(ctx.previous, "KUBE_SCHEDULER_PORT"),
  };
}

/** Run kube-build.sh, forwarding its progress lines (it prints a heartbeat every 30 s). */
function runBuild(ctx: StackContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ctx.root, "test/stack/kube-build.sh")], {
      env: { ...process.env, CLICKPIPES_STACK_CACHE: ctx.cacheDir, KUBE_VERSION, ETCD_VERSION, HELM_VERSION },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const onData = (d: Buffer): void => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.startsWith("[kube-build")) ctx.log(line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`kube-build.sh exited ${code}:\n${tail}`))));
  });
}

function linkTool(ctx: StackContext, name: string): void {
  const target = join(kubeBinDir(ctx), name);
  const link = join(ctx.binDir, name);
  rmSync(link, { force: true });
  symlinkSync(target, link);
}

function ensurePki(layout: KubeLayout): Promise<unknown> {
  mkdirSync(layout.pki, { recursive: true });
  writeFileSync(join(layout.pki, "tokens.csv"), `${ADMIN_TOKEN},admin,admin,"system:masters"\n`);
  const key = join(layout.pki, "sa.key");
  if (existsSync(key) && existsSync(join(layout.pki, "sa.pub"))) return Promise.resolve();
  return run("openssl", ["genrsa", "-out", key, "2048"]).then(() => run("openssl", ["rsa", "-in", key, "-pubout", "-out", join(layout.pki, "sa.pub")]));
}

/** The apiserver generates a self-signed serving cert (leaf followed by its CA) in --cert-dir. */
export function apiserverCaFile(layout: KubeLayout): string {
  return join(layout.pki, "apiserver.crt");
}

function writeKubeconfig(layout: KubeLayout): void {
  const ca = readFileSync(apiserverCaFile(layout)).toString("base64");
  const config = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:${layout.apiserverPort}
    certificate-authority-data: ${ca}
users:
- name: admin
  user:
    token: ${ADMIN_TOKEN}
contexts:
- name: local
  context: { cluster: local, user: admin, namespace: default }
current-context: local
`;
  writeFileSync(layout.kubeconfig, config, { mode: 0o600 });
}

interface HttpsResult {
  status: number;
  body: string;
}

/** GET over TLS; the control plane's own ports serve self-signed certs we only check on the apiserver. */
export function httpsGet(url: string, opts: { ca?: string; token?: string }): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        ca: opts.ca,
        rejectUnauthorized: opts.ca !== undefined,
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url);
  return res.ok;
}

function startEtcd(ctx: StackContext, layout: KubeLayout): void {
  const peer = `http://127.0.0.1:${layout.etcdPeerPort}`;
  const client = `http://127.0.0.1:${layout.etcdPort}`;
  spawnDetached(ctx, "kube-etcd", join(kubeBinDir(ctx), "etcd"), [
    "--name=default",
    `--data-dir=${join(layout.dir, "etcd")}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ]);
}

export function startApiserver(ctx: StackContext, layout: KubeLayout): void {
  spawnDetached(ctx, "kube-apiserver", join(kubeBinDir(ctx), "kube-apiserver"), [
    `--etcd-servers=http://127.0.0.1:${layout.etcdPort}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${layout.apiserverPort}`,
    "--advertise-address=127.0.0.1",
    "--endpoint-reconciler-type=none",
    `--cert-dir=${layout.pki}`,
    `--token-auth-file=${join(layout.pki, "tokens.csv")}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${join(layout.pki, "sa.pub")}`,
    `--service-account-signing-key-file=${join(layout.pki, "sa.key")}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--v=1",
  ]);
}

function delegatedAuthFlags(layout: KubeLayout): string[] {
  return [
    `--kubeconfig=${layout.kubeconfig}`,
    `--authentication-kubeconfig=${layout.kubeconfig}`,
    `--authorization-kubeconfig=${layout.kubeconfig}`,
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    `--cert-dir=${join(layout.dir, "serving")}`,
    // No client-certificate CA is configured, so there is nothing to look up (and no
    // extension-apiserver-authentication ConfigMap to complain about every few seconds).
    "--authentication-skip-lookup=true",
  ];
}

function startControllerManager(ctx: StackContext, layout: KubeLayout): void {
  spawnDetached(ctx, "kube-controller-manager", join(kubeBinDir(ctx), "kube-controller-manager"), [
    ...delegatedAuthFlags(layout),
    `--secure-port=${layout.controllerManagerPort}`,
    "--controllers=*",
    "--use-service-account-credentials=false",
    `--service-account-private-key-file=${join(layout.pki, "sa.key")}`,
    `--root-ca-file=${apiserverCaFile(layout)}`,
    // The test kubelet renews its lease every 2 s; a shorter grace period makes "node
    // stopped" visible in ~20 s instead of the default 50 s without false alarms.
    "--node-monitor-period=2s",
    "--node-monitor-grace-period=20s",
  ]);
}

function startScheduler(ctx: StackContext, layout: KubeLayout): void {
  spawnDetached(ctx, "kube-scheduler", join(kubeBinDir(ctx), "kube-scheduler"), [
    ...delegatedAuthFlags(layout),
    `--secure-port=${layout.schedulerPort}`,
  ]);
}

export async function apiserverReady(layout: KubeLayout): Promise<boolean> {
  if (!existsSync(apiserverCaFile(layout))) return false;
  const res = await httpsGet(`https://127.0.0.1:${layout.apiserverPort}/readyz`, {
    ca: readFileSync(apiserverCaFile(layout), "utf8"),
    token: ADMIN_TOKEN,
  });
  return res.status === 200 && res.body.trim() === "ok";
}

export async function waitApiserverReady(layout: KubeLayout, timeoutMs = 120_000): Promise<void> {
  await waitFor(`kube-apiserver /readyz on 127.0.0.1:${layout.apiserverPort}`, () => apiserverReady(layout), timeoutMs, 250);
}

async function healthzOk(port: number): Promise<boolean> {
  const res = await httpsGet(`https://127.0.0.1:${port}/healthz`, {});
  return res.status === 200;
}

/**
 * Pods in a fresh namespace need its `default` ServiceAccount, which the controller-manager
 * creates; waiting for it proves the controllers run before any test creates a Deployment.
 */
async function defaultServiceAccountExists(ctx: StackContext, layout: KubeLayout): Promise<boolean> {
  const res = await httpsGet(`https://127.0.0.1:${layout.apiserverPort}/api/v1/namespaces/default/serviceaccounts/default`, {
    ca: readFileSync(apiserverCaFile(layout), "utf8"),
    token: ADMIN_TOKEN,
  });
  if (res.status !== 200 && !isAlive(readPid(ctx, "kube-controller-manager"))) {
    throw new Error(`kube-controller-manager exited; see ${join(ctx.stateDir, "logs", "kube-controller-manager.log")}`);
  }
  return res.status === 200;
}

function envOf(layout: KubeLayout): Record<string, string> {
  return {
    KUBECONFIG: layout.kubeconfig,
    KUBE_APISERVER_URL: `https://127.0.0.1:${layout.apiserverPort}`,
    KUBE_APISERVER_PORT: String(layout.apiserverPort),
    KUBE_CA_FILE: apiserverCaFile(layout),
    KUBE_TOKEN: ADMIN_TOKEN,
    KUBE_ETCD_PORT: String(layout.etcdPort),
    KUBE_ETCD_PEER_PORT: String(layout.etcdPeerPort),
    KUBE_CONTROLLER_MANAGER_PORT: String(layout.controllerManagerPort),
    KUBE_SCHEDULER_PORT: String(layout.schedulerPort),
    KUBE_VERSION,
  };
}

function logHint(ctx: StackContext, name: string): string {
  return `see ${join(ctx.stateDir, "logs", `${name}.log`)}`;
}

async function waitAlive(ctx: StackContext, name: string, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await waitFor(
    `${what} (${logHint(ctx, name)})`,
    async () => {
      if (!isAlive(readPid(ctx, name))) throw new Error(`${name} exited; ${logHint(ctx, name)}`);
      return check();
    },
    timeoutMs,
  );
}

export const kube: Component = {
  name: "kube",

  async provision(ctx) {
    await runBuild(ctx);
    mkdirSync(ctx.binDir, { recursive: true });
    for (const tool of ["kubectl", "helm", "etcdctl"]) linkTool(ctx, tool);
  },

  async start(ctx) {
    const t0 = Date.now();
    const layout = await kubeLayout(ctx);
    mkdirSync(layout.dir, { recursive: true });
    await ensurePki(layout);

    startEtcd(ctx, layout);
    await waitAlive(ctx, "kube-etcd", "etcd /health", () => httpOk(`http://127.0.0.1:${layout.etcdPort}/health`), 60_000);
    ctx.log(`kube: etcd ready on 127.0.0.1:${layout.etcdPort}`);

    startApiserver(ctx, layout);
    await waitAlive(ctx, "kube-apiserver", "kube-apiserver /readyz", () => apiserverReady(layout), 120_000);
    writeKubeconfig(layout);
    ctx.log(`kube: apiserver ready on https://127.0.0.1:${layout.apiserverPort} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    startControllerManager(ctx, layout);
    startScheduler(ctx, layout);
    await waitAlive(ctx, "kube-scheduler", "kube-scheduler /healthz", () => healthzOk(layout.schedulerPort), 60_000);
    await waitAlive(ctx, "kube-controller-manager", "kube-controller-manager /healthz", () => healthzOk(layout.controllerManagerPort), 60_000);
    await waitFor("ServiceAccount default/default (created by kube-controller-manager)", () => defaultServiceAccountExists(ctx, layout), 60_000);
    ctx.log(`kube: control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return envOf(layout);
  },

  async healthy(ctx, env) {
    if (!PROCESSES.every((name) => isAlive(readPid(ctx, name)))) return false;
    const port = Number(env.KUBE_APISERVER_PORT);
    if (!Number.isInteger(port)) return false;
    const layout = await kubeLayout({ ...ctx, previous: env });
    try {
      return await apiserverReady(layout);
    } catch {
      return false;
    }
  },

  async stop(ctx) {
    for (const name of PROCESSES) await stopProcess(ctx, name, 15_000);
  },
};
