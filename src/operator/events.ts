import type { Logger } from "pino";
import { paths, type ApiRequester } from "./kube/apply.js";
import type { KubeObject } from "./kube/client.js";
import type { EventRecorder } from "./finalizer.js";

/**
 * core/v1 Events on the ClickPipe (what `kubectl describe cp` shows). An Event that cannot
 * be written is logged: it is a notification, and failing the reconcile for it would retry
 * work that already happened.
 */
export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly api: ApiRequester,
    private readonly identity: string,
    private readonly log: Logger,
  ) {}

  async record(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const ns = obj.metadata.namespace ?? "default";
    const now = new Date().toISOString();
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${obj.metadata.name}.`, namespace: ns },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: ns, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: "clickpipes-operator" },
      reportingComponent: "clickpipes-operator",
      reportingInstance: this.identity,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.api.request("POST", paths.events(ns), { body });
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error), reason }, "could not record an Event");
    }
  }
}
