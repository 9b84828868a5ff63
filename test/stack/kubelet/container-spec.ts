import { basename } from "node:path";
import type { V1Container, V1EnvVar, V1ObjectFieldSelector, V1Pod } from "@kubernetes/client-node";

/**
 * Pure translation of a pod's container into a local process: what to exec, with which
 * args, env and working directory. Everything that needs the API (ConfigMaps, Secrets)
 * or the host (ports, volume dirs) comes in through `ContainerInputs`.
 */

/** The image's working directory; our Dockerfile uses WORKDIR /app, mapped to the checkout. */
export const IMAGE_WORKDIR = "/app";

export interface ContainerInputs {
  readonly pod: V1Pod;
  readonly container: V1Container;
  /** Host node executable that replaces `node` in the container. */
  readonly nodeExecPath: string;
  readonly repoRoot: string;
  /** Image ENTRYPOINT used when the container has no command (exec form). */
  readonly imageEntrypoint: readonly string[] | undefined;
  /** Container path prefix → host path (volume mounts and /app), applied longest first. */
  readonly pathMap: ReadonlyArray<readonly [string, string]>;
  /** containerPort → host port. */
  readonly hostPorts: ReadonlyMap<number, number>;
  /** ConfigMap name → data (undefined when the ConfigMap does not exist). */
  readonly configMaps: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>;
  /** Secret name → decoded data (undefined when the Secret does not exist). */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>;
  /** Env every container starts with before its own (PATH, HOSTNAME, service env). */
  readonly baseEnv: Readonly<Record<string, string>>;
}

export interface ResolvedContainer {
  readonly file: string;
  readonly args: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
}

/** A reference the container needs but the API does not have (kubelet: CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  constructor(
    message: string,
    readonly container: string,
  ) {
    super(message);
    this.name = "ContainerConfigError";
  }
}

/** Names of ConfigMaps and Secrets the container's env refers to (fetched before resolving). */
export function envReferences(container: V1Container): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef?.name) configMaps.add(from.configMapRef.name);
    if (from.secretRef?.name) secrets.add(from.secretRef.name);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps, secrets };
}

/** Rewrite a container path to the host when it is (under) a mapped prefix. */
export function rewritePath(value: string, pathMap: ReadonlyArray<readonly [string, string]>): string {
  const sorted = [...pathMap].sort((a, b) => b[0].length - a[0].length);
  for (const [from, to] of sorted) {
    const prefix = from.endsWith("/") ? from.slice(0, -1) : from;
    if (value === prefix) return to;
    if (value.startsWith(`${prefix}/`)) return to + value.slice(prefix.length);
  }
  return value;
}

/** Kubernetes `$(VAR)` expansion: unknown references stay as written, `$$` escapes. */
export function expandVars(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    if (name !== undefined && Object.hasOwn(vars, name)) return vars[name] ?? "";
    return match;
  });
}

const LABEL_OR_ANNOTATION = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** The downward API fields operators commonly read (kubelet's podFieldSelectorRuntimeValue). */
export function fieldRefValue(pod: V1Pod, ref: V1ObjectFieldSelector): string {
  const path = ref.fieldPath;
  const m = LABEL_OR_ANNOTATION.exec(path);
  if (m) {
    const source = m[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return source?.[m[2] ?? ""] ?? "";
  }
  const simple: Record<string, string | undefined> = {
    "metadata.name": pod.metadata?.name,
    "metadata.namespace": pod.metadata?.namespace,
    "metadata.uid": pod.metadata?.uid,
    "spec.nodeName": pod.spec?.nodeName,
    "spec.serviceAccountName": pod.spec?.serviceAccountName,
    "status.podIP": "127.0.0.1",
    "status.podIPs": "127.0.0.1",
    "status.hostIP": "127.0.0.1",
    "status.hostIPs": "127.0.0.1",
  };
  if (!Object.hasOwn(simple, path)) throw new Error(`unsupported downward API fieldPath "${path}"`);
  return simple[path] ?? "";
}

function lookup(
  kind: "ConfigMap" | "Secret",
  source: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>,
  ref: { name?: string; key: string; optional?: boolean },
  container: string,
): string | undefined {
  const data = source.get(ref.name ?? "");
  if (data === undefined) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`${kind.toLowerCase()} "${ref.name}" not found`, container);
  }
  const value = data[ref.key];
  if (value === undefined && !ref.optional) {
    throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kind} ${ref.name}`, container);
  }
  return value;
}

function envVarValue(inputs: ContainerInputs, e: V1EnvVar, vars: Readonly<Record<string, string>>): string | undefined {
  const name = inputs.container.name;
  if (e.valueFrom === undefined) return expandVars(e.value ?? "", vars);
  const from = e.valueFrom;
  if (from.configMapKeyRef) return lookup("ConfigMap", inputs.configMaps, from.configMapKeyRef, name);
  if (from.secretKeyRef) return lookup("Secret", inputs.secrets, from.secretKeyRef, name);
  if (from.fieldRef) return fieldRefValue(inputs.pod, from.fieldRef);
  throw new ContainerConfigError(`env ${e.name}: only value, configMapKeyRef, secretKeyRef and fieldRef are supported`, name);
}

function envFromValues(inputs: ContainerInputs): Record<string, string> {
  const env: Record<string, string> = {};
  const name = inputs.container.name;
  for (const from of inputs.container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const source = from.configMapRef ? inputs.configMaps : inputs.secrets;
    const data = source.get(ref?.name ?? "");
    if (data === undefined) {
      if (ref?.optional) continue;
      throw new ContainerConfigError(`${from.configMapRef ? "configmap" : "secret"} "${ref?.name}" not found`, name);
    }
    for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ""}${k}`] = v;
  }
  return env;
}

/** A value naming a declared containerPort is the pod telling its process which port to use. */
function rewritePort(value: string, hostPorts: ReadonlyMap<number, number>): string {
  if (!/^\d+$/.test(value)) return value;
  const host = hostPorts.get(Number(value));
  return host === undefined ? value : String(host);
}

export function resolveEnv(inputs: ContainerInputs): Record<string, string> {
  const env: Record<string, string> = { ...inputs.baseEnv, ...envFromValues(inputs) };
  for (const e of inputs.container.env ?? []) {
    const value = envVarValue(inputs, e, env);
    if (value === undefined) continue;
    env[e.name] = rewritePath(rewritePort(value, inputs.hostPorts), inputs.pathMap);
  }
  return env;
}

function resolveExecutable(file: string, inputs: ContainerInputs): string {
  if (file === "node" || (file.startsWith("/") && basename(file) === "node" && !file.startsWith(IMAGE_WORKDIR))) return inputs.nodeExecPath;
  return rewritePath(file, inputs.pathMap);
}

export function resolveContainer(inputs: ContainerInputs): ResolvedContainer {
  const { container } = inputs;
  const env = resolveEnv(inputs);
  const expand = (s: string): string => rewritePath(expandVars(s, env), inputs.pathMap);
  let argv: string[];
  if (container.command && container.command.length > 0) {
    argv = [...container.command, ...(container.args ?? [])];
  } else if (inputs.imageEntrypoint && inputs.imageEntrypoint.length > 0) {
    argv = [...inputs.imageEntrypoint, ...(container.args ?? [])];
  } else {
    throw new ContainerConfigError("container has no command and the image entrypoint is unknown (no Dockerfile ENTRYPOINT)", container.name);
  }
  const [file, ...args] = argv.map(expand);
  return {
    file: resolveExecutable(file ?? "", inputs),
    args,
    cwd: rewritePath(container.workingDir ?? IMAGE_WORKDIR, inputs.pathMap),
    env,
  };
}

/** ENTRYPOINT in exec form from a Dockerfile (the last one wins, as in docker build). */
export function parseEntrypoint(dockerfile: string): string[] | undefined {
  let found: string[] | undefined;
  for (const line of dockerfile.split("\n")) {
    const m = /^\s*ENTRYPOINT\s+(\[.*\])\s*$/i.exec(line);
    if (!m) continue;
    const parsed: unknown = JSON.parse(m[1] ?? "[]");
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === "string")) found = parsed;
  }
  return found;
}
