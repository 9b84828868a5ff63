import { describe, expect, it } from "vitest";
import { KubeApiError, type KubeObject } from "./kube/client.js";
import { ReferencedSecrets } from "./referenced-secrets.js";

const secret = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: "a", resourceVersion: rv }, data: { username: btoa("admin") } });

class SecretsApi {
  readonly gets: string[] = [];
  readonly stored = new Map<string, KubeObject>();
  request<T>(method: string, path: string): Promise<T> {
    this.gets.push(`${method} ${path}`);
    const name = path.split("/").pop() ?? "";
    const found = this.stored.get(name);
    if (!found) return Promise.reject(new KubeApiError(404, "NotFound", method, path, `secrets "${name}" not found`));
    return Promise.resolve(found as T);
  }
}

/** An owned-Secrets informer cache stand-in. */
function ownedCache(entries: [string, KubeObject][] = []): Map<string, KubeObject> & { remember(obj: KubeObject): void } {
  const m = new Map(entries);
  return Object.assign(m, { remember: (obj: KubeObject): void => void m.set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj) });
}

describe("ReferencedSecrets", () => {
  it("reads a referenced Secret by name once per refresh interval, however many pipes ask", async () => {
    const api = new SecretsApi();
    api.stored.set("ch-admin", secret("ch-admin", "1"));
    let now = 0;
    const store = new ReferencedSecrets(api, ownedCache(), 1000, () => now);
    await Promise.all(Array.from({ length: 20 }, () => store.load("a", ["ch-admin", "ch-admin"])));
    expect(api.gets).toEqual(["GET /api/v1/namespaces/a/secrets/ch-admin"]);
    expect(store.get("a/ch-admin")?.metadata.resourceVersion).toBe("1");
    api.stored.set("ch-admin", secret("ch-admin", "2"));
    now = 500;
    await store.load("a", ["ch-admin"]);
    expect(store.get("a/ch-admin")?.metadata.resourceVersion).toBe("1");
    now = 1500;
    await store.load("a", ["ch-admin"]);
    expect(store.get("a/ch-admin")?.metadata.resourceVersion).toBe("2");
    expect(api.gets).toHaveLength(2);
  });

  it("remembers a missing Secret as absent and sees it once created, after the interval", async () => {
    const api = new SecretsApi();
    let now = 0;
    const store = new ReferencedSecrets(api, ownedCache(), 1000, () => now);
    await store.load("a", ["later"]);
    expect(store.get("a/later")).toBeUndefined();
    api.stored.set("later", secret("later", "3"));
    now = 1000;
    await store.load("a", ["later"]);
    expect(store.get("a/later")?.metadata.resourceVersion).toBe("3");
  });

  it("does not read Secrets the operator owns: they come from its label-selected informer", async () => {
    const api = new SecretsApi();
    const owned = ownedCache([["a/p-clickpipe-user", secret("p-clickpipe-user", "9")]]);
    const store = new ReferencedSecrets(api, owned, 1000);
    await store.load("a", ["p-clickpipe-user"]);
    expect(api.gets).toEqual([]);
    expect(store.get("a/p-clickpipe-user")?.metadata.resourceVersion).toBe("9");
  });

  it("passes on a failure other than NotFound", async () => {
    const api = { request: (): Promise<never> => Promise.reject(new KubeApiError(403, "Forbidden", "GET", "/x", "no")) };
    const store = new ReferencedSecrets(api, ownedCache(), 1000);
    await expect(store.load("a", ["x"])).rejects.toThrow(/403 Forbidden/);
  });
});
