import { KubeApiError, PATCH_APPLY, PATCH_MERGE, type KubeObject } from "./client.js";

/** The requests the reconciler makes; KubeClient implements it, unit tests fake it. */
export interface ApiRequester {
  request<T>(method: string, path: string, opts?: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; contentType?: string; signal?: AbortSignal }): Promise<T>;
}

/** REST paths of the kinds the operator touches. */
export const paths = {
  deployment: (ns: string, name?: string): string => `/apis/apps/v1/namespaces/${ns}/deployments${name ? `/${name}` : ""}`,
  statefulSet: (ns: string, name?: string): string => `/apis/apps/v1/namespaces/${ns}/statefulsets${name ? `/${name}` : ""}`,
  configMap: (ns: string, name?: string): string => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ""}`,
  secret: (ns: string, name?: string): string => `/api/v1/namespaces/${ns}/secrets${name ? `/${name}` : ""}`,
  serviceAccount: (ns: string, name: string): string => `/api/v1/namespaces/${ns}/serviceaccounts/${name}`,
  clickPipe: (ns: string, name: string): string => `/apis/clickpipes.io/v1alpha1/namespaces/${ns}/clickpipes/${name}`,
  lease: (ns: string, name?: string): string => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases${name ? `/${name}` : ""}`,
  events: (ns: string): string => `/api/v1/namespaces/${ns}/events`,
};

/**
 * True when every field of `desired` has the same value in `existing`. Fields the apiserver
 * adds (defaults, status, metadata) do not count; lists must have the same length so a
 * removed entry is noticed.
 */
export function isSubset(desired: unknown, existing: unknown): boolean {
  if (desired === undefined) return true;
  if (Array.isArray(desired)) {
    return Array.isArray(existing) && existing.length === desired.length && desired.every((d, i) => isSubset(d, existing[i]));
  }
  if (desired !== null && typeof desired === "object") {
    if (existing === null || typeof existing !== "object" || Array.isArray(existing)) return false;
    const e = existing as Record<string, unknown>;
    return Object.entries(desired).every(([k, v]) => isSubset(v, e[k]));
  }
  return desired === existing;
}

export const FIELD_MANAGER = "clickpipes-operator";

/**
 * Server-side apply of `desired` at `path`, skipped when `existing` (from the informer cache)
 * already holds every desired field. Returns the object as written, or undefined when no
 * write was needed, so the caller can put it in its cache before the watch brings it.
 */
export async function applyIfChanged(api: ApiRequester, path: string, desired: object, existing: KubeObject | undefined): Promise<KubeObject | undefined> {
  if (existing && isSubset(desired, existing)) return undefined;
  return api.request<KubeObject>("PATCH", path, { query: { fieldManager: FIELD_MANAGER, force: true }, body: desired, contentType: PATCH_APPLY });
}

/**
 * DELETE with background propagation (the garbage collector removes what the object owns);
 * an object already gone is fine. With `uid`, only that very object is deleted (a
 * precondition), not a namesake created since the caller read it: that one is kept (409).
 */
export async function deleteIfPresent(api: ApiRequester, path: string, uid?: string): Promise<void> {
  try {
    const body = uid === undefined ? undefined : { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid } };
    await api.request("DELETE", path, { query: { propagationPolicy: "Background" }, ...(body ? { body } : {}) });
  } catch (error) {
    if (!(error instanceof KubeApiError && (error.notFound || (uid !== undefined && error.statusCode === 409)))) throw error;
  }
}

/** Merge-patch the status subresource; the operator never writes spec. */
export async function patchStatus(api: ApiRequester, ns: string, name: string, status: unknown): Promise<KubeObject> {
  return api.request<KubeObject>("PATCH", `${paths.clickPipe(ns, name)}/status`, { query: { fieldManager: FIELD_MANAGER }, body: { status }, contentType: PATCH_MERGE });
}

/** Merge-patch metadata.finalizers with resourceVersion as a precondition, so a concurrent edit is not lost. */
export async function patchFinalizers(api: ApiRequester, obj: KubeObject, finalizers: string[]): Promise<KubeObject> {
  const ns = obj.metadata.namespace ?? "default";
  return api.request<KubeObject>("PATCH", paths.clickPipe(ns, obj.metadata.name), {
    query: { fieldManager: FIELD_MANAGER },
    body: { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } },
    contentType: PATCH_MERGE,
  });
}
