import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ClickPipe } from "../api/index.js";
import type { DatabaseReadings, Endpoint } from "./clickhouse-readings.js";
import { loadOperatorConfig } from "./config.js";
import type { KubeObject } from "./kube/client.js";
import { Reconciler, type ClickHouseSide, type PipeStore } from "./reconciler.js";
import type { SecretStore } from "./referenced-secrets.js";

const log = pino({ level: "silent" });
const config = { ...loadOperatorConfig({}), resyncMs: 30_000, specErrorRequeueMs: 300_000 };

/** An apiserver stand-in: objects by kind and key; writes land in the same maps the stores read. */
class FakeCluster {
  readonly objects = new Map<string, Map<string, KubeObject>>();
  readonly writes: string[] = [];
  private rv = 100;

  kind(kind: string): Map<string, KubeObject> & PipeStore {
    let m = this.objects.get(kind);
    if (!m) {
      m = new Map();
      this.objects.set(kind, m);
    }
    const store = m as Map<string, KubeObject> & PipeStore;
    store.remember = (obj: KubeObject): void => void store.set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj);
    return store;
  }

  /** Secrets as the ReferencedSecrets store shows them: already read. */
  secrets(): Map<string, KubeObject> & SecretStore {
    const store = Object.assign(this.kind("secrets"), { load: (): Promise<void> => Promise.resolve() });
    return store;
  }

  request<T>(method: string, path: string, opts?: { body?: unknown; contentType?: string }): Promise<T> {
    const parts = path.split("/");
    const [ns, resource, name, sub] = parts.slice(parts.indexOf("namespaces") + 1);
    this.writes.push(`${method} ${resource}${sub ? `/${sub}` : ""}`);
    const store = this.kind(resource ?? "");
    const key = `${ns}/${name}`;
    const body = (opts?.body ?? {}) as Record<string, unknown>;
    if (method === "DELETE") {
      store.delete(key);
      return Promise.resolve({} as T);
    }
    if (method === "POST") return Promise.resolve(body as T);
    const existing = store.get(key);
    const merged = sub === "status" ? { ...existing!, status: body.status } : opts?.contentType?.includes("merge") ? { ...existing!, metadata: { ...existing!.metadata, ...(body.metadata as object) } } : (body as KubeObject);
    const obj = { ...merged, metadata: { ...merged.metadata, resourceVersion: String(++this.rv) } } as KubeObject;
    store.set(key, obj);
    return Promise.resolve(obj as T);
  }
}

function pipeObject(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "events", namespace: "a", uid: "u1", generation: 1, resourceVersion: "1", ...meta },
    spec: {
      source: { kafka: { brokers: "k:9092", topics: "t" } },
      destination: { clickhouse: { url: "http://ch:8123", credentialsSecretRef: { name: "ch-admin" } }, table: "events", columns: [{ name: "id", type: "UInt64" }] },
      scaling: { replicas: 2 },
      ...spec,
    },
  };
}

const kinesisSource = { kinesis: { streamName: "clicks", region: "us-east-1", authentication: "IAM_USER", credentialsSecretRef: { name: "aws" } } };
const awsSecret: KubeObject = { metadata: { name: "aws", namespace: "a", resourceVersion: "6" }, data: { accessKeyId: btoa("k"), secretAccessKey: btoa("s") } };
const adminSecret: KubeObject = { metadata: { name: "ch-admin", namespace: "a", resourceVersion: "5" }, data: { username: btoa("admin"), password: btoa("secret") } };

function setup(
  obj: KubeObject,
  secrets: KubeObject[] = [adminSecret],
  reports: DatabaseReadings["reports"] = new Map(),
  grants: () => string | undefined = () => undefined,
): { cluster: FakeCluster; reconciler: Reconciler; ch: { calls: string[] } } {
  const cluster = new FakeCluster();
  cluster.kind("clickpipes").set("a/events", obj);
  for (const s of secrets) cluster.kind("secrets").set(`a/${s.metadata.name}`, s);
  const calls: string[] = [];
  const clickhouse: ClickHouseSide = {
    setup: (_p: ClickPipe, e: Endpoint, password: string, previousGrants?: string) => {
      calls.push(`setup ${e.username} ${password.length > 20 ? "generated-password" : password}${previousGrants === undefined ? "" : ` after ${previousGrants}`}`);
      const g = grants();
      return Promise.resolve(g === undefined ? { ok: true } : { ok: true, grants: g });
    },
    dropUser: () => {
      calls.push("dropUser");
      return Promise.resolve();
    },
    logSystemError: () => Promise.resolve(),
  };
  const readings: DatabaseReadings = { fetchedAt: 0, reachability: { ok: true, reason: "DestinationReachable", message: "ok" }, totals: new Map([["a/events", { rows: 10, bytes: 100, recordErrors: 1 }]]), system: new Map(), lastRecordError: new Map(), reports };
  const reconciler = new Reconciler({
    api: cluster,
    stores: { pipes: cluster.kind("clickpipes"), deployments: cluster.kind("deployments"), statefulSets: cluster.kind("statefulsets"), configMaps: cluster.kind("configmaps"), secrets: cluster.secrets() },
    config,
    clickhouse,
    readings: { get: () => Promise.resolve(readings) },
    probes: { latest: () => ({ at: 0, reachability: { ok: true, reason: "SourceReachable", message: "ok" }, lag: 3 }), forget: () => undefined },
    events: { record: (_o, type, reason) => Promise.resolve(void cluster.writes.push(`EVENT ${type} ${reason}`)) },
  });
  return { cluster, reconciler, ch: { calls } };
}

describe("Reconciler", () => {
  it("sets up a new pipe: finalizer, user Secret, ClickHouse, ConfigMap, Deployment and status (no Event for its first phase)", async () => {
    const { cluster, reconciler, ch } = setup(pipeObject());
    expect(await reconciler.reconcile("a/events", log)).toEqual({});
    expect(cluster.writes).toEqual([
      "PATCH clickpipes",
      "PATCH secrets",
      "PATCH serviceaccounts",
      "PATCH configmaps",
      "PATCH deployments",
      "PATCH clickpipes/status",
    ]);
    expect(ch.calls).toEqual(["setup admin generated-password"]);
    const pipe = cluster.kind("clickpipes").get("a/events")!;
    expect(pipe.metadata.finalizers).toEqual(["clickpipes.io/finalizer"]);
    expect(pipe.status).toMatchObject({ phase: "Provisioning", ingested: { rows: 10, bytes: 100 }, errors: { records: 1 }, lag: 3 });
    expect((cluster.kind("deployments").get("a/events")!.spec as { replicas: number }).replicas).toBe(2);
  });

  it("records the user's grants on its Secret once set up, and hands them to the next setup (to narrow them)", async () => {
    let grants = "g1";
    const { cluster, reconciler, ch } = setup(pipeObject(), [adminSecret], new Map(), () => grants);
    await reconciler.reconcile("a/events", log);
    const annotations = (): Record<string, string> | undefined => cluster.kind("secrets").get("a/events-clickpipe-user")?.metadata.annotations;
    expect(annotations()).toEqual({ "clickpipes.io/grants": "g1" });
    grants = "g2";
    const pipe = cluster.kind("clickpipes").get("a/events")!;
    const spec = pipe.spec as { destination: Record<string, unknown> };
    cluster.kind("clickpipes").set("a/events", { ...pipe, metadata: { ...pipe.metadata, generation: 2 }, spec: { ...spec, destination: { ...spec.destination, permissions: "full" } } });
    await reconciler.reconcile("a/events", log);
    expect(ch.calls.at(-1)).toBe("setup admin generated-password after g1");
    expect(annotations()).toEqual({ "clickpipes.io/grants": "g2" });
  });

  it("settles: once the Deployment is observed, reconciling again writes nothing", async () => {
    const { cluster, reconciler, ch } = setup(pipeObject());
    await reconciler.reconcile("a/events", log);
    await reconciler.reconcile("a/events", log);
    cluster.writes.length = 0;
    await reconciler.reconcile("a/events", log);
    expect(cluster.writes).toEqual([]);
    expect(ch.calls).toHaveLength(1);
  });

  it("reports a missing Secret, applies nothing else and waits for a long requeue", async () => {
    const { cluster, reconciler, ch } = setup(pipeObject(), []);
    expect(await reconciler.reconcile("a/events", log)).toEqual({ requeueAfterMs: 300_000 });
    expect(cluster.writes).toEqual(["PATCH clickpipes", "EVENT Warning SecretNotFound", "PATCH clickpipes/status"]);
    expect(ch.calls).toEqual([]);
    expect(cluster.kind("clickpipes").get("a/events")!.status).toMatchObject({ phase: "Setup" });
  });

  it("does not touch ClickHouse for a stopped pipe and runs no consumers", async () => {
    const { cluster, reconciler, ch } = setup(pipeObject({ state: "Stopped" }));
    await reconciler.reconcile("a/events", log);
    expect(ch.calls).toEqual([]);
    // no user Secret until the pipe first runs: its ClickHouse user does not exist yet
    expect(cluster.writes).toEqual(["PATCH clickpipes", "PATCH serviceaccounts", "PATCH configmaps", "PATCH deployments", "PATCH clickpipes/status"]);
    expect((cluster.kind("deployments").get("a/events")!.spec as { replicas: number }).replicas).toBe(0);
    expect(cluster.kind("clickpipes").get("a/events")!.status).toMatchObject({ phase: "Stopped" });
  });

  it("on deletion removes the consumers' workload (Deployment or StatefulSet), drops the user and releases the finalizer", async () => {
    const obj = pipeObject({}, { deletionTimestamp: new Date().toISOString(), finalizers: ["clickpipes.io/finalizer", "other"] });
    const { cluster, reconciler, ch } = setup(obj);
    const owner = { apiVersion: "clickpipes.io/v1alpha1", kind: "ClickPipe", name: "events", uid: "u1", controller: true };
    cluster.kind("deployments").set("a/events", { metadata: { name: "events", namespace: "a", uid: "d1", ownerReferences: [owner] } });
    // a namesake the pipe does not own is someone else's: it stays
    cluster.kind("statefulsets").set("a/events", { metadata: { name: "events", namespace: "a", uid: "s1" } });
    await reconciler.reconcile("a/events", log);
    expect(cluster.writes).toEqual(["DELETE deployments", "PATCH clickpipes"]);
    expect(cluster.kind("statefulsets").get("a/events")).toBeDefined();
    expect(ch.calls).toEqual(["dropUser"]);
    expect(cluster.kind("clickpipes").get("a/events")!.metadata.finalizers).toEqual(["other"]);
  });

  it("stops the consumers of a pipe whose source reported Completed, and keeps it Completed", async () => {
    const { cluster, reconciler } = setup(pipeObject(), [adminSecret], new Map([["a/events", { phase: { time: "2026-01-01T10:00:00.000Z", message: "Completed" } }]]));
    await reconciler.reconcile("a/events", log);
    expect((cluster.kind("deployments").get("a/events")!.spec as { replicas: number }).replicas).toBe(0);
    expect(cluster.kind("clickpipes").get("a/events")!.status).toMatchObject({ phase: "Completed", replicas: { desired: 0 } });
  });

  it("reports an invalid spec without retrying", async () => {
    const { cluster, reconciler } = setup(pipeObject({ scaling: { replicas: 99 } }));
    expect(await reconciler.reconcile("a/events", log)).toEqual({});
    expect(cluster.writes).toEqual(["PATCH clickpipes/status"]);
    const status = cluster.kind("clickpipes").get("a/events")!.status as { conditions: { reason: string; message: string }[] };
    expect(status.conditions[0]).toMatchObject({ reason: "InvalidSpec" });
    expect(status.conditions[0]!.message).toContain("spec.scaling.replicas");
  });

  it("runs the consumers of a source that splits its work by replica index (Kinesis) as a StatefulSet and reports its status", async () => {
    const { cluster, reconciler } = setup(pipeObject({ source: kinesisSource }), [adminSecret, awsSecret]);
    await reconciler.reconcile("a/events", log);
    expect(cluster.writes).toContain("PATCH statefulsets");
    expect(cluster.writes).not.toContain("PATCH deployments");
    const sts = cluster.kind("statefulsets").get("a/events")!;
    expect(sts.spec).toMatchObject({ replicas: 2, podManagementPolicy: "Parallel" });
    cluster.kind("statefulsets").set("a/events", { ...sts, metadata: { ...sts.metadata, generation: 1 }, status: { observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2 } });
    await reconciler.reconcile("a/events", log);
    expect(cluster.kind("clickpipes").get("a/events")!.status).toMatchObject({ phase: "Running", replicas: { desired: 2, ready: 2 }, selector: "clickpipes.io/pipe=events" });
  });

  it("deletes a Deployment the pipe owns when its source now needs a StatefulSet, before starting the StatefulSet", async () => {
    const { cluster, reconciler } = setup(pipeObject({ source: kinesisSource }), [adminSecret, awsSecret]);
    const owner = { apiVersion: "clickpipes.io/v1alpha1", kind: "ClickPipe", name: "events", uid: "u1", controller: true };
    cluster.kind("deployments").set("a/events", { metadata: { name: "events", namespace: "a", resourceVersion: "7", ownerReferences: [owner] } });
    await reconciler.reconcile("a/events", log);
    const writes = cluster.writes.filter((w) => /deployments|statefulsets/.test(w));
    expect(writes).toEqual(["DELETE deployments", "PATCH statefulsets"]);
    expect(cluster.kind("deployments").get("a/events")).toBeUndefined();
  });
});
