import { KubeApiError, type KubeObject } from "./kube/client.js";
import { paths, type ApiRequester } from "./kube/apply.js";

/**
 * The Secrets the operator reads, and no others. Secrets it owns (each pipe's user Secret)
 * carry its managed-by label and come from a label-selected informer; Secrets a pipe
 * references (admin and source credentials) are read by name when a reconcile needs them,
 * at most once per refresh interval and shared by every pipe that names them. Watching every
 * Secret of the cluster would hold them all in memory and need the right to list them all.
 */

/** Read access to an informer's cache. */
export interface Store {
  get(key: string): KubeObject | undefined;
}

/** An informer's cache that also takes what the operator just wrote, so it never acts on a stale copy. */
export interface WritableStore extends Store {
  remember(obj: KubeObject): void;
}

/** Secrets by `namespace/name`, readable once `load` has made sure they are fresh. */
export interface SecretStore extends WritableStore {
  /** Reads the named Secrets of a namespace that were not read within the refresh interval. */
  load(namespace: string, names: readonly string[]): Promise<void>;
}

interface Entry {
  readonly secret: KubeObject | undefined;
  readonly at: number;
}

export class ReferencedSecrets implements SecretStore {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly api: ApiRequester,
    /** The operator's own Secrets (label-selected informer). */
    private readonly owned: WritableStore,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): KubeObject | undefined {
    return this.owned.get(key) ?? this.entries.get(key)?.secret;
  }

  /** Only the operator's own Secrets are written, so they go to the informer's cache. */
  remember(obj: KubeObject): void {
    this.owned.remember(obj);
  }

  async load(namespace: string, names: readonly string[]): Promise<void> {
    await Promise.all([...new Set(names)].map((name) => this.loadOne(`${namespace}/${name}`, namespace, name)));
  }

  private loadOne(key: string, namespace: string, name: string): Promise<void> {
    if (this.owned.get(key)) return Promise.resolve();
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.at < this.refreshMs) return Promise.resolve();
    let read = this.inFlight.get(key);
    if (!read) {
      read = this.read(namespace, name)
        .then((secret) => void this.entries.set(key, { secret, at: this.now() }))
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, read);
    }
    return read;
  }

  private async read(namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      const secret = await this.api.request<KubeObject>("GET", paths.secret(namespace, name));
      // managed fields are large and never read
      const { managedFields: _dropped, ...metadata } = secret.metadata as KubeObject["metadata"] & { managedFields?: unknown };
      return { ...secret, metadata };
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound) return undefined;
      throw error;
    }
  }
}
