import type { Logger } from "pino";
import { ClickPipeSchema, ConditionReason, validateWith, type ClickPipe } from "../api/index.js";
import { DestinationUnavailableError } from "./clickhouse-ops.js";
import type { ClickHouseSide } from "./clickhouse-setup.js";
import { FINALIZER } from "./desired.js";
import { deleteIfPresent, patchFinalizers, type ApiRequester } from "./kube/apply.js";
import type { KubeObject } from "./kube/client.js";
import type { PipeSecrets } from "./pipe-secrets.js";
import { sourcePlugin } from "../sources/registry.js";

/** core/v1 Events on the ClickPipe. */
export interface EventRecorder {
  record(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

/** How long deletion waits for an unreachable ClickHouse to drop the pipe's user before giving up. */
const DROP_USER_PATIENCE_MS = 5 * 60_000;

/** Deletion: stop the consumers, drop the pipe's ClickHouse user, release the finalizer; tables stay. */
export class Finalizer {
  constructor(
    private readonly deps: {
      readonly api: ApiRequester;
      readonly clickhouse: ClickHouseSide;
      readonly secrets: PipeSecrets;
      readonly events: EventRecorder;
      readonly now: () => Date;
      /** The consumers' Deployment or StatefulSet the pipe owns, from the informer caches. */
      readonly ownedWorkloads: (obj: KubeObject) => { path: string; uid: string | undefined }[];
    },
  ) {}

  /** Adds the finalizer on first sight; returns the object as written (or as it was). */
  async ensure(obj: KubeObject, log: Logger): Promise<KubeObject> {
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizers.includes(FINALIZER)) return obj;
    const written = await patchFinalizers(this.deps.api, obj, [...finalizers, FINALIZER]);
    log.info("added finalizer");
    return written;
  }

  /** Returns whether the finalizer was released. */
  async finalize(obj: KubeObject, log: Logger): Promise<boolean> {
    const finalizers = obj.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return false;
    // Either kind may run the consumers (the source decides), so every workload the pipe owns
    // goes; a namesake it does not own stays (garbage collection removes anything it missed).
    for (const { path, uid } of this.deps.ownedWorkloads(obj)) await deleteIfPresent(this.deps.api, path, uid);
    const parsed = validateWith(ClickPipeSchema, { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: obj.spec });
    if (parsed.ok) await this.cleanUpSource(parsed.value, obj, log);
    if (parsed.ok) await this.dropUser(parsed.value, obj, log);
    await patchFinalizers(this.deps.api, obj, finalizers.filter((f) => f !== FINALIZER));
    log.info("finalized: consumers stopped, ClickHouse user dropped, tables kept");
    return true;
  }

  /** What the pipe created at its source (a CDC slot and publication), through its plugin; a failure is an event, not a stuck deletion. */
  private async cleanUpSource(pipe: ClickPipe, obj: KubeObject, log: Logger): Promise<void> {
    const plugin = sourcePlugin(pipe.spec);
    if (plugin?.cleanUp === undefined) return;
    try {
      await this.deps.secrets.load(pipe);
      const released = await plugin.cleanUp(pipe, this.deps.secrets.resolver(pipe), 10_000);
      if (released.length > 0) await this.deps.events.record(obj, "Normal", "SourceCleanedUp", `dropped at the source: ${released.join(", ")}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn({ err: message }, "could not clean up the source");
      await this.deps.events.record(obj, "Warning", ConditionReason.SourceUnreachable, `could not drop what the pipe created at the source (${message}); drop it by hand`);
    }
  }

  private async dropUser(pipe: ClickPipe, obj: KubeObject, log: Logger): Promise<void> {
    const adminRef = pipe.spec.destination.clickhouse.credentialsSecretRef.name;
    await this.deps.secrets.load(pipe);
    if (!this.deps.secrets.get(pipe, adminRef)) {
      await this.deps.events.record(obj, "Warning", ConditionReason.SecretNotFound, `could not drop the pipe's ClickHouse user: Secret "${adminRef}" is gone; drop it by hand`);
      return;
    }
    try {
      await this.deps.clickhouse.dropUser(pipe, this.deps.secrets.adminEndpoint(pipe));
    } catch (error) {
      const deletingFor = this.deps.now().getTime() - Date.parse(obj.metadata.deletionTimestamp ?? "");
      if (!(error instanceof DestinationUnavailableError) || deletingFor < DROP_USER_PATIENCE_MS) throw error;
      log.warn({ err: error.message }, "giving up dropping the ClickHouse user");
      await this.deps.events.record(obj, "Warning", ConditionReason.DestinationUnreachable, `could not drop the pipe's ClickHouse user (ClickHouse unreachable for ${Math.round(deletingFor / 60_000)} min); drop it by hand`);
    }
  }
}
