import type { ClickPipe } from "../api/index.js";
import type { OperatorConfig } from "./config.js";
import {
  buildConfigMap,
  buildConsumerDeployment,
  buildConsumerServiceAccount,
  buildUserSecret,
  configHash,
  configMapName,
  consumerSecretMounts,
  deploymentName,
  desiredReplicas,
  secretValue,
  userSecretName,
} from "./desired.js";
import { applyIfChanged, paths, type ApiRequester } from "./kube/apply.js";
import type { KubeObject } from "./kube/client.js";
import { namespaceOf, type PipeSecrets } from "./pipe-secrets.js";
import type { SecretStore, WritableStore } from "./referenced-secrets.js";

/**
 * Writes what a pipe owns in Kubernetes: its user Secret, the namespace's consumer service
 * account, its ConfigMap and Deployment. Each write is a server-side apply skipped when the
 * cached object already matches.
 */
export class ConsumerObjects {
  private readonly serviceAccounts = new Map<string, Promise<void>>();
  /** Per pipe: the inputs of its consumer objects when they were last found up to date. */
  private readonly applied = new Map<string, string>();

  constructor(
    private readonly api: ApiRequester,
    private readonly stores: { readonly deployments: WritableStore; readonly configMaps: WritableStore; readonly secrets: SecretStore },
    private readonly secrets: PipeSecrets,
    private readonly config: OperatorConfig,
  ) {}

  forget(key: string): void {
    this.applied.delete(key);
  }

  /** Applies the pipe user's Secret (keeping its password) and returns the password. */
  async applyUserSecret(pipe: ClickPipe): Promise<string> {
    const existing = this.secrets.get(pipe, userSecretName(pipe));
    const desired = buildUserSecret(pipe, existing as { data?: Record<string, string> } | undefined);
    // remembered at once: a reconcile before the watch brings it must keep, not regenerate, the password
    this.remember(this.stores.secrets, await applyIfChanged(this.api, paths.secret(namespaceOf(pipe), userSecretName(pipe)), desired, existing));
    return secretValue(desired, "password") ?? "";
  }

  /**
   * Applies ServiceAccount, ConfigMap and Deployment. Skipped outright when nothing they are
   * built from changed since the last reconcile found them up to date: the periodic resync
   * then costs a status computation, not three builds and comparisons per pipe.
   */
  async apply(pipe: ClickPipe, key: string): Promise<void> {
    const ns = namespaceOf(pipe);
    const existing = this.stores.deployments.get(`${ns}/${deploymentName(pipe)}`);
    const existingCm = this.stores.configMaps.get(`${ns}/${configMapName(pipe)}`);
    const versions: Record<string, string> = {};
    for (const { name } of consumerSecretMounts(pipe)) {
      if (name !== userSecretName(pipe)) versions[name] = this.secrets.get(pipe, name)?.metadata.resourceVersion ?? "";
    }
    const inputs = JSON.stringify([pipe.metadata.uid, pipe.metadata.generation, desiredReplicas(pipe), existing?.metadata.resourceVersion, existingCm?.metadata.resourceVersion, versions]);
    if (this.applied.get(key) === inputs) return;
    await this.ensureServiceAccount(ns);
    const cm = buildConfigMap(pipe);
    const config = { image: this.config.consumerImage, serviceAccount: this.config.consumerServiceAccount, sizePresets: this.config.consumerSizePresets, configHash: configHash(cm, versions) };
    const applyCm = (): Promise<boolean> => applyIfChanged(this.api, paths.configMap(ns, configMapName(pipe)), cm, existingCm).then((w) => this.remember(this.stores.configMaps, w));
    const applyDeployment = (): Promise<boolean> =>
      applyIfChanged(this.api, paths.deployment(ns, deploymentName(pipe)), buildConsumerDeployment(pipe, config), existing).then((w) => this.remember(this.stores.deployments, w));
    // A changed ConfigMap goes first, so the pods its new hash rolls out mount the new config.
    // A new one can be written with the Deployment in one round trip: its pods wait for it.
    const [wroteCm, wroteDeployment] = existingCm ? [await applyCm(), await applyDeployment()] : await Promise.all([applyCm(), applyDeployment()]);
    if (wroteCm || wroteDeployment) this.applied.delete(key);
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
