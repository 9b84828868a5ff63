import type { ClickPipe } from "../api/index.js";
import type { OperatorConfig } from "./config.js";
import { buildConsumerWorkload, otherWorkloadKind, workloadPath } from "./consumer-workload.js";
import {
  buildConfigMap,
  buildConsumerServiceAccount,
  buildUserSecret,
  recordedGrants,
  configHash,
  configMapName,
  consumerSecretMounts,
  deploymentName,
  desiredReplicas,
  secretValue,
  userSecretName,
} from "./desired.js";
import { consumerResyncId } from "./resync.js";
import { applyIfChanged, deleteIfPresent, paths, type ApiRequester } from "./kube/apply.js";
import type { KubeObject } from "./kube/client.js";
import { namespaceOf, type PipeSecrets } from "./pipe-secrets.js";
import type { SecretStore, WritableStore } from "./referenced-secrets.js";
import { consumerWorkloadKind, type ConsumerWorkloadKind } from "./source-support.js";

export interface ConsumerStores {
  readonly deployments: WritableStore;
  readonly statefulSets: WritableStore;
  readonly configMaps: WritableStore;
  readonly secrets: SecretStore;
}

/** The informer cache of a workload kind. */
export function workloadStore(stores: Pick<ConsumerStores, "deployments" | "statefulSets">, kind: ConsumerWorkloadKind): WritableStore {
  return kind === "StatefulSet" ? stores.statefulSets : stores.deployments;
}

type WorkloadStores = Pick<ConsumerStores, "deployments" | "statefulSets">;
type PipeIdentity = { readonly metadata: Pick<ClickPipe["metadata"], "name" | "namespace" | "uid"> };

/** The pipe's cached workload of `kind`, if the pipe owns it (not a namesake someone else made). */
export function ownedWorkload(stores: WorkloadStores, pipe: PipeIdentity, kind: ConsumerWorkloadKind): KubeObject | undefined {
  const obj = workloadStore(stores, kind).get(`${namespaceOf(pipe)}/${pipe.metadata.name}`);
  return obj && (obj.metadata.ownerReferences ?? []).some((o) => o.uid === pipe.metadata.uid) ? obj : undefined;
}

/** Every workload of either kind the pipe owns, as REST path and uid (for a DELETE precondition). */
export function ownedWorkloads(stores: WorkloadStores, pipe: PipeIdentity): { path: string; uid: string | undefined }[] {
  const kinds: ConsumerWorkloadKind[] = ["Deployment", "StatefulSet"];
  return kinds.flatMap((kind) => {
    const obj = ownedWorkload(stores, pipe, kind);
    return obj ? [{ path: workloadPath(kind, namespaceOf(pipe), pipe.metadata.name), uid: obj.metadata.uid }] : [];
  });
}

/**
 * Writes what a pipe owns in Kubernetes: its user Secret, the namespace's consumer service
 * account, its ConfigMap and its consumers' Deployment or StatefulSet. Each write is a
 * server-side apply skipped when the cached object already matches.
 */
export class ConsumerObjects {
  private readonly serviceAccounts = new Map<string, Promise<void>>();
  /** Per pipe: the inputs of its consumer objects when they were last found up to date. */
  private readonly applied = new Map<string, string>();

  constructor(
    private readonly api: ApiRequester,
    private readonly stores: ConsumerStores,
    private readonly secrets: PipeSecrets,
    private readonly config: OperatorConfig,
  ) {}

  forget(key: string): void {
    this.applied.delete(key);
  }

  /**
   * Applies the pipe user's Secret (keeping its password and, unless given, its recorded
   * grants fingerprint) and returns the password.
   */
  async applyUserSecret(pipe: ClickPipe, grants?: string): Promise<string> {
    const existing = this.secrets.get(pipe, userSecretName(pipe));
    const previous = existing as { data?: Record<string, string>; metadata?: { annotations?: Record<string, string> } } | undefined;
    const desired = buildUserSecret(pipe, previous, undefined, grants ?? recordedGrants(previous));
    // remembered at once: a reconcile before the watch brings it must keep, not regenerate, the password
    this.remember(this.stores.secrets, await applyIfChanged(this.api, paths.secret(namespaceOf(pipe), userSecretName(pipe)), desired, existing));
    return secretValue(desired, "password") ?? "";
  }

  /**
   * Applies ServiceAccount, ConfigMap and the consumers' workload (the kind the source needs),
   * deleting a workload of the other kind the pipe still owns. Skipped outright when nothing
   * they are built from changed since the last reconcile found them up to date: the periodic
   * resync then costs a status computation, not three builds and comparisons per pipe.
   */
  async apply(pipe: ClickPipe, key: string): Promise<void> {
    const ns = namespaceOf(pipe);
    const kind = consumerWorkloadKind(pipe.spec);
    const existing = workloadStore(this.stores, kind).get(`${ns}/${deploymentName(pipe)}`);
    const leftover = ownedWorkload(this.stores, pipe, otherWorkloadKind(kind));
    const existingCm = this.stores.configMaps.get(`${ns}/${configMapName(pipe)}`);
    const versions: Record<string, string> = {};
    for (const { name } of consumerSecretMounts(pipe)) {
      if (name !== userSecretName(pipe)) versions[name] = this.secrets.get(pipe, name)?.metadata.resourceVersion ?? "";
    }
    const inputs = JSON.stringify([pipe.metadata.uid, pipe.metadata.generation, desiredReplicas(pipe), kind, existing?.metadata.resourceVersion, leftover?.metadata.resourceVersion, existingCm?.metadata.resourceVersion, versions, consumerResyncId(pipe)]);
    if (this.applied.get(key) === inputs) return;
    await this.ensureServiceAccount(ns);
    // The old consumers stop before the new ones start, so two sets never split the work
    // differently at once; the cache drops it when the watch reports the deletion.
    if (leftover) await deleteIfPresent(this.api, workloadPath(otherWorkloadKind(kind), ns, deploymentName(pipe)), leftover.metadata.uid);
    const cm = buildConfigMap(pipe);
    const config = { image: this.config.consumerImage, serviceAccount: this.config.consumerServiceAccount, sizePresets: this.config.consumerSizePresets, configHash: configHash(cm, versions) };
    const applyCm = (): Promise<boolean> => applyIfChanged(this.api, paths.configMap(ns, configMapName(pipe)), cm, existingCm).then((w) => this.remember(this.stores.configMaps, w));
    const applyWorkload = (): Promise<boolean> =>
      applyIfChanged(this.api, workloadPath(kind, ns, deploymentName(pipe)), buildConsumerWorkload(pipe, config).object, existing).then((w) => this.remember(workloadStore(this.stores, kind), w));
    // A changed ConfigMap goes first, so the pods its new hash rolls out mount the new config.
    // A new one can be written with the workload in one round trip: its pods wait for it.
    const [wroteCm, wroteWorkload] = existingCm ? [await applyCm(), await applyWorkload()] : await Promise.all([applyCm(), applyWorkload()]);
    if (wroteCm || wroteWorkload || leftover) this.applied.delete(key);
    else this.applied.set(key, inputs);
  }

  /** Puts a written object in its cache; returns whether there was one. */
  private remember(store: WritableStore, written: KubeObject | undefined): boolean {
    if (written) store.remember(written);
    return written !== undefined;
  }

  /** Once per namespace and process; concurrent reconciles share the one apply. */
  private ensureServiceAccount(ns: string): Promise<void> {
    let applied = this.serviceAccounts.get(ns);
    if (!applied) {
      const sa = this.config.consumerServiceAccount;
      applied = applyIfChanged(this.api, paths.serviceAccount(ns, sa), buildConsumerServiceAccount(ns, sa), undefined).then(() => undefined);
      this.serviceAccounts.set(ns, applied);
      // a failed apply is retried by the next reconcile; the caller sees the error
      applied.catch(() => this.serviceAccounts.delete(ns));
    }
    return applied;
  }
}
