import type { Logger } from "pino";
import { API_GROUP_VERSION, KIND } from "../api/index.js";
import type { KubeClient, KubeObject } from "./kube/client.js";
import { Informer, objectKey, type InformerHandler } from "./kube/informer.js";
import type { PipeStore } from "./status-writer.js";

/** Informers of one kind across the watched namespaces, read as one store. */
export class MultiInformer implements PipeStore {
  readonly informers: Informer[];
  private readonly byNamespace = new Map<string, Informer>();

  constructor(client: KubeClient, spec: { namespaces: readonly string[]; path: (ns?: string) => string; labelSelector?: string; onEvent: InformerHandler; log: Logger }) {
    const { namespaces, path, labelSelector, onEvent, log } = spec;
    const onError = (error: unknown, relist: boolean): void => log.warn({ err: error instanceof Error ? error.message : String(error), relist, path: path() }, "watch interrupted, recovering");
    if (namespaces.length === 0) {
      this.informers = [new Informer(client, { path: path(), labelSelector, onEvent, onError })];
    } else {
      this.informers = namespaces.map((ns) => {
        const inf = new Informer(client, { path: path(ns), labelSelector, onEvent, onError });
        this.byNamespace.set(ns, inf);
        return inf;
      });
    }
  }

  private informerOf(key: string): Informer | undefined {
    if (this.byNamespace.size === 0) return this.informers[0];
    return this.byNamespace.get(key.split("/")[0] ?? "");
  }

  get(key: string): KubeObject | undefined {
    return this.informerOf(key)?.get(key);
  }

  remember(obj: KubeObject): void {
    this.informerOf(objectKey(obj))?.remember(obj);
  }

  list(): KubeObject[] {
    return this.informers.flatMap((i) => i.list());
  }

  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  get maxSilentMs(): number {
    return Math.max(0, ...this.informers.map((i) => i.silentForMs));
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

export function collectionPath(group: string, resource: string): (ns?: string) => string {
  const prefix = group === "" ? "/api/v1" : `/apis/${group}`;
  return (ns) => (ns ? `${prefix}/namespaces/${ns}/${resource}` : `${prefix}/${resource}`);
}

/** The owning ClickPipe's key of an owned object, if any. */
export function ownerKey(obj: KubeObject): string | undefined {
  const owner = (obj.metadata.ownerReferences ?? []).find((o) => o.kind === KIND && o.apiVersion === API_GROUP_VERSION);
  return owner ? `${obj.metadata.namespace ?? "default"}/${owner.name}` : undefined;
}
