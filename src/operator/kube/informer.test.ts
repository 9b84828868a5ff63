import { describe, expect, it } from "vitest";
import type { KubeList, KubeObject, RequestOptionsLite, WatchEvent } from "./client.js";
import { Informer, type InformerEventType, type WatchClient } from "./informer.js";

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: "ns", resourceVersion: rv } });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type WatchScript = (emit: (e: WatchEvent) => void, signal: AbortSignal) => Promise<void>;

/** An apiserver stand-in: each list returns the next listed state, each watch runs the next script. */
class FakeApi implements WatchClient {
  lists: KubeObject[][] = [];
  watches: WatchScript[] = [];
  listCalls = 0;
  watchQueries: Record<string, unknown>[] = [];

  request<T>(_method: string, _path: string, _opts?: RequestOptionsLite): Promise<T> {
    const items = this.lists[Math.min(this.listCalls, this.lists.length - 1)] ?? [];
    this.listCalls++;
    const list: KubeList = { metadata: { resourceVersion: String(100 + this.listCalls) }, items };
    return Promise.resolve(list as T);
  }

  async watch(_path: string, query: RequestOptionsLite["query"], onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    this.watchQueries.push({ ...query });
    const script = this.watches.shift() ?? ((_e, s) => new Promise<void>((_r, reject) => s.addEventListener("abort", () => reject(new Error("aborted")))));
    await script(onEvent, signal);
  }
}

function recorder(): { events: string[]; handler: (t: InformerEventType, o: KubeObject) => void } {
  const events: string[] = [];
  return { events, handler: (t, o) => events.push(`${t}:${o.metadata.name}@${o.metadata.resourceVersion}`) };
}

describe("Informer", () => {
  it("lists, then applies watch events to its cache", async () => {
    const api = new FakeApi();
    api.lists = [[obj("a", "1"), obj("b", "2")]];
    api.watches = [
      async (emit) => {
        emit({ type: "MODIFIED", object: obj("a", "3") });
        emit({ type: "ADDED", object: obj("c", "4") });
        emit({ type: "DELETED", object: obj("b", "5") });
        await sleep(1);
      },
    ];
    const r = recorder();
    const inf = new Informer(api, { path: "/x", onEvent: r.handler, onError: () => undefined, retryBaseMs: 1 });
    inf.start();
    await inf.waitForSync(1000);
    await sleep(30);
    await inf.stop();
    expect(r.events).toEqual(["add:a@1", "add:b@2", "update:a@3", "add:c@4", "delete:b@5"]);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(["a", "c"]);
  });

  it("resumes a watch that ended from the last resourceVersion, including bookmarks", async () => {
    const api = new FakeApi();
    api.lists = [[obj("a", "1")]];
    api.watches = [
      async (emit) => {
        emit({ type: "BOOKMARK", object: obj("", "150") });
        await sleep(1);
      },
    ];
    const inf = new Informer(api, { path: "/x", onEvent: () => undefined, onError: () => undefined, retryBaseMs: 1 });
    inf.start();
    await sleep(30);
    await inf.stop();
    expect(api.listCalls).toBe(1);
    expect(api.watchQueries[0]?.resourceVersion).toBe("101");
    expect(api.watchQueries[1]?.resourceVersion).toBe("150");
  });

  it("re-lists on 410 Gone and emits what changed meanwhile, deletions included", async () => {
    const api = new FakeApi();
    api.lists = [[obj("a", "1"), obj("b", "2")], [obj("a", "7"), obj("d", "8")]];
    api.watches = [
      async (emit) => {
        await sleep(1);
        emit({ type: "ERROR", object: { kind: "Status", code: 410, message: "too old resource version" } });
      },
    ];
    const r = recorder();
    const errors: boolean[] = [];
    const inf = new Informer(api, { path: "/x", onEvent: r.handler, onError: (_e, relist) => errors.push(relist), retryBaseMs: 1 });
    inf.start();
    await sleep(50);
    await inf.stop();
    expect(errors).toEqual([true]);
    expect(api.listCalls).toBe(2);
    expect(r.events).toEqual(["add:a@1", "add:b@2", "delete:b@2", "update:a@7", "add:d@8"]);
  });

  it("restarts a watch that went silent", async () => {
    const api = new FakeApi();
    api.lists = [[obj("a", "1")]];
    api.watches = [
      (emit, signal) =>
        new Promise<void>((_r, reject) => {
          signal.addEventListener("abort", () => reject(new Error("aborted")));
        }),
      async (emit) => {
        emit({ type: "ADDED", object: obj("z", "9") });
        await sleep(1);
      },
    ];
    const errors: string[] = [];
    const r = recorder();
    const inf = new Informer(api, { path: "/x", onEvent: r.handler, onError: (e) => errors.push(String(e)), stallMs: 40, retryBaseMs: 1 });
    inf.start();
    await sleep(250);
    await inf.stop();
    expect(errors[0]).toMatch(/stalled/);
    expect(r.events).toContain("add:z@9");
  });

  it("re-lists after repeated watch failures", async () => {
    const api = new FakeApi();
    api.lists = [[obj("a", "1")], [obj("a", "1")]];
    const fail: WatchScript = () => Promise.reject(new Error("connection refused"));
    api.watches = [fail, fail, fail];
    const inf = new Informer(api, { path: "/x", onEvent: () => undefined, onError: () => undefined, retryBaseMs: 1 });
    inf.start();
    await sleep(200);
    await inf.stop();
    expect(api.listCalls).toBe(2);
  });

  it("remembers what we wrote until the watch brings something newer", async () => {
    const api = new FakeApi();
    api.lists = [[obj("a", "10")]];
    const inf = new Informer(api, { path: "/x", onEvent: () => undefined, onError: () => undefined });
    inf.start();
    await inf.waitForSync(1000);
    inf.remember(obj("a", "12"));
    expect(inf.get("ns/a")?.metadata.resourceVersion).toBe("12");
    inf.remember(obj("a", "11"));
    expect(inf.get("ns/a")?.metadata.resourceVersion).toBe("12");
    await inf.stop();
  });

  it("does not let a late watch event overwrite a newer object we remembered", async () => {
    const api = new FakeApi();
    api.lists = [[obj("a", "10")]];
    let emit: ((e: WatchEvent) => void) | undefined;
    api.watches = [
      (e, signal) =>
        new Promise<void>((_r, reject) => {
          emit = e;
          signal.addEventListener("abort", () => reject(new Error("aborted")));
        }),
    ];
    const inf = new Informer(api, { path: "/x", onEvent: () => undefined, onError: () => undefined });
    inf.start();
    await inf.waitForSync(1000);
    await sleep(10);
    inf.remember(obj("a", "12"));
    emit?.({ type: "MODIFIED", object: obj("a", "11") });
    expect(inf.get("ns/a")?.metadata.resourceVersion).toBe("12");
    emit?.({ type: "MODIFIED", object: obj("a", "13") });
    expect(inf.get("ns/a")?.metadata.resourceVersion).toBe("13");
    await inf.stop();
  });
});
