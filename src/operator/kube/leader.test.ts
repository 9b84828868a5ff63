import { describe, expect, it } from "vitest";
import type { ApiRequester } from "./apply.js";
import { KubeApiError } from "./client.js";
import { LeaderElector, microTime, type LeaderElectionOptions } from "./leader.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One Lease with optimistic concurrency, as the apiserver keeps it. */
class LeaseStore implements ApiRequester {
  lease: { metadata: { name: string; namespace?: string; resourceVersion?: string }; spec?: Record<string, unknown> } | undefined;
  version = 0;
  down = false;

  request<T>(method: string, path: string, opts?: { body?: unknown }): Promise<T> {
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED"));
    const body = opts?.body as typeof this.lease;
    if (method === "GET") {
      if (!this.lease) return Promise.reject(new KubeApiError(404, "NotFound", method, path, "not found"));
      return Promise.resolve(structuredClone(this.lease) as T);
    }
    if (method === "POST" && this.lease) return Promise.reject(new KubeApiError(409, "AlreadyExists", method, path, "exists"));
    if (method === "PUT" && body?.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
      return Promise.reject(new KubeApiError(409, "Conflict", method, path, "the object has been modified"));
    }
    this.version++;
    this.lease = { ...structuredClone(body!), metadata: { ...body!.metadata, resourceVersion: String(this.version) } };
    return Promise.resolve(structuredClone(this.lease) as T);
  }
}

function candidate(store: LeaseStore, identity: string, log: string[]): LeaderElector {
  const opts: LeaderElectionOptions = {
    namespace: "ops",
    name: "clickpipes-operator",
    identity,
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 100,
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
    onError: () => undefined,
  };
  return new LeaderElector(store, opts);
}

describe("LeaderElector", () => {
  it("elects one leader and hands over at once when the leader releases the Lease", async () => {
    const store = new LeaseStore();
    const log: string[] = [];
    const a = candidate(store, "a", log);
    const b = candidate(store, "b", log);
    a.start();
    await sleep(50);
    b.start();
    await sleep(300);
    expect(log).toEqual(["a leads"]);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(store.lease?.spec?.holderIdentity).toBe("a");
    await a.stop();
    await sleep(300);
    expect(log).toEqual(["a leads", "b leads"]);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await b.stop();
  });

  it("takes over from a leader that died without releasing after the lease duration", async () => {
    const store = new LeaseStore();
    const log: string[] = [];
    const a = candidate(store, "a", log);
    a.start();
    await sleep(50);
    // a dies: its timers stop but the Lease still names it
    (a as unknown as { stopped: boolean }).stopped = true;
    const b = candidate(store, "b", log);
    const t0 = Date.now();
    b.start();
    while (!b.isLeader && Date.now() - t0 < 3000) await sleep(20);
    const took = Date.now() - t0;
    expect(b.isLeader).toBe(true);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(1600);
    await b.stop();
  });

  it("steps down when it cannot renew within the renew deadline", async () => {
    const store = new LeaseStore();
    const log: string[] = [];
    const a = candidate(store, "a", log);
    a.start();
    await sleep(50);
    store.down = true;
    await sleep(900);
    expect(log).toEqual(["a leads", "a stopped"]);
    expect(a.isLeader).toBe(false);
    store.down = false;
    await a.stop();
  });

  it("writes renew times as MicroTime", () => {
    expect(microTime(Date.parse("2026-01-01T00:00:00.123Z"))).toBe("2026-01-01T00:00:00.123000Z");
  });
});
