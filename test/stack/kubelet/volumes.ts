import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { V1KeyToPath, V1Pod, V1Volume, V1VolumeProjection } from "@kubernetes/client-node";
import { fieldRefValue } from "./container-spec.js";

/**
 * ConfigMap, Secret, downward API, projected and emptyDir volumes materialised as plain
 * directories; containers see them through path rewriting (container-spec.ts).
 */

export interface ApiReader {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  serviceAccountToken(namespace: string, serviceAccount: string, audience: string | undefined, expirationSeconds: number): Promise<string>;
}

/** A volume source the kubelet cannot mount yet (kubelet: FailedMount, the pod stays ContainerCreating). */
export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VolumeError";
  }
}

function writeItems(dir: string, data: Readonly<Record<string, string>>, items: readonly V1KeyToPath[] | undefined, what: string): void {
  const entries: Array<[string, string]> = items ? items.map((i) => [i.path, data[i.key] ?? missingKey(what, i.key)]) : Object.entries(data);
  for (const [path, value] of entries) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, value);
  }
}

function missingKey(what: string, key: string): never {
  throw new VolumeError(`${what}: key "${key}" not found`);
}

async function dataOf(
  read: (ns: string, name: string) => Promise<Record<string, string> | undefined>,
  ns: string,
  ref: { name?: string; optional?: boolean },
  kind: string,
): Promise<Record<string, string> | undefined> {
  const data = await read(ns, ref.name ?? "");
  if (data === undefined && !ref.optional) throw new VolumeError(`${kind} "${ref.name}" not found`);
  return data;
}

async function writeConfigProjection(api: ApiReader, pod: V1Pod, dir: string, source: V1VolumeProjection): Promise<void> {
  const ns = pod.metadata?.namespace ?? "default";
  if (source.configMap) {
    const data = await dataOf(api.configMap.bind(api), ns, source.configMap, "configmap");
    if (data) writeItems(dir, data, source.configMap.items, `configmap ${source.configMap.name}`);
  }
  if (source.secret) {
    const data = await dataOf(api.secret.bind(api), ns, source.secret, "secret");
    if (data) writeItems(dir, data, source.secret.items, `secret ${source.secret.name}`);
  }
}

async function writeProjection(api: ApiReader, pod: V1Pod, dir: string, source: V1VolumeProjection): Promise<void> {
  await writeConfigProjection(api, pod, dir, source);
  if (source.downwardAPI) {
    for (const item of source.downwardAPI.items ?? []) {
      if (item.fieldRef) writeItems(dir, { v: fieldRefValue(pod, item.fieldRef) }, [{ key: "v", path: item.path }], "downwardAPI");
    }
  }
  const ns = pod.metadata?.namespace ?? "default";
  if (source.serviceAccountToken) {
    const sat = source.serviceAccountToken;
    const token = await api.serviceAccountToken(ns, pod.spec?.serviceAccountName ?? "default", sat.audience, sat.expirationSeconds ?? 3600);
    writeItems(dir, { token }, undefined, "serviceAccountToken");
    if (sat.path !== "token") writeItems(dir, { [sat.path]: token }, undefined, "serviceAccountToken");
  }
}

async function materialiseVolume(api: ApiReader, pod: V1Pod, dir: string, volume: V1Volume): Promise<void> {
  const ns = pod.metadata?.namespace ?? "default";
  if (volume.configMap) {
    const data = await dataOf(api.configMap.bind(api), ns, volume.configMap, "configmap");
    if (data) writeItems(dir, data, volume.configMap.items, `configmap ${volume.configMap.name}`);
  } else if (volume.secret) {
    const data = await dataOf(api.secret.bind(api), ns, { name: volume.secret.secretName, optional: volume.secret.optional }, "secret");
    if (data) writeItems(dir, data, volume.secret.items, `secret ${volume.secret.secretName}`);
  } else if (volume.projected) {
    for (const source of volume.projected.sources ?? []) await writeProjection(api, pod, dir, source);
  } else if (volume.downwardAPI) {
    await writeProjection(api, pod, dir, { downwardAPI: volume.downwardAPI });
  } else if (!volume.emptyDir) {
    throw new VolumeError(`volume ${volume.name}: only configMap, secret, projected, downwardAPI and emptyDir volumes are supported`);
  }
}

/** Write every volume of the pod under `root/<volume name>`; returns volume name → directory. */
export async function materialiseVolumes(api: ApiReader, pod: V1Pod, root: string): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const dir = join(root, volume.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await materialiseVolume(api, pod, dir, volume);
    dirs.set(volume.name, dir);
  }
  return dirs;
}
