import { describe, expect, it } from "vitest";
import { applyIfChanged, isSubset, type ApiRequester } from "./apply.js";
import type { KubeObject } from "./client.js";

class RecordingApi implements ApiRequester {
  calls: { method: string; path: string; contentType?: string; query?: unknown }[] = [];
  request<T>(method: string, path: string, opts?: { query?: Record<string, unknown>; contentType?: string }): Promise<T> {
    this.calls.push({ method, path, contentType: opts?.contentType, query: opts?.query });
    return Promise.resolve({} as T);
  }
}

describe("isSubset", () => {
  it("ignores fields the apiserver added", () => {
    const desired = { spec: { replicas: 2, template: { containers: [{ name: "c", ports: [{ containerPort: 8080 }] }] } } };
    const existing = { metadata: { uid: "u" }, spec: { replicas: 2, strategy: {}, template: { containers: [{ name: "c", imagePullPolicy: "Always", ports: [{ containerPort: 8080, protocol: "TCP" }] }] } }, status: {} };
    expect(isSubset(desired, existing)).toBe(true);
  });

  it("notices a changed value, a removed list entry and a type change", () => {
    expect(isSubset({ spec: { replicas: 1 } }, { spec: { replicas: 2 } })).toBe(false);
    expect(isSubset({ env: [{ name: "A" }] }, { env: [{ name: "A" }, { name: "B" }] })).toBe(false);
    expect(isSubset({ a: { b: 1 } }, { a: [1] })).toBe(false);
    expect(isSubset({ a: "1" }, { a: 1 })).toBe(false);
  });
});

describe("applyIfChanged", () => {
  const desired = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "ns" }, data: { a: "1" } };

  it("server-side applies with the operator's field manager when the object differs or is missing", async () => {
    const api = new RecordingApi();
    expect(await applyIfChanged(api, "/api/v1/namespaces/ns/configmaps/x", desired, undefined)).toEqual({});
    expect(api.calls).toEqual([{ method: "PATCH", path: "/api/v1/namespaces/ns/configmaps/x", contentType: "application/apply-patch+yaml", query: { fieldManager: "clickpipes-operator", force: true } }]);
  });

  it("does not write when the existing object already matches", async () => {
    const api = new RecordingApi();
    const existing: KubeObject = { ...desired, metadata: { ...desired.metadata, resourceVersion: "5" } };
    expect(await applyIfChanged(api, "/p", desired, existing)).toBeUndefined();
    expect(api.calls).toEqual([]);
  });
});
