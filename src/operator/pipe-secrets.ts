import { ConditionReason, secretReferences, type ClickPipe } from "../api/index.js";
import { ConfigError } from "../ingest/errors.js";
import type { SecretResolver } from "../ingest/secrets.js";
import type { Endpoint } from "./clickhouse-readings.js";
import { secretValue } from "./desired.js";
import type { KubeObject } from "./kube/client.js";
import type { SecretStore } from "./referenced-secrets.js";
import type { Blocker } from "./status.js";

/** A pipe's view of the Secrets it references: presence checks, its admin endpoint, a resolver for probes. */
export class PipeSecrets {
  constructor(private readonly store: SecretStore) {}

  /**
   * Reads (if not fresh) every Secret the pipe references. Its user Secret is the operator's
   * own and comes from the label-selected informer, already synced: reading it by name would
   * cost a request per new pipe only to learn it does not exist yet.
   */
  async load(pipe: ClickPipe): Promise<void> {
    await this.store.load(namespaceOf(pipe), secretReferences(pipe.spec).map((r) => r.name));
  }

  get(pipe: ClickPipe, name: string): KubeObject | undefined {
    return this.store.get(`${namespaceOf(pipe)}/${name}`);
  }

  /** The first referenced Secret or key that is missing, as a blocker naming the field and the fix. */
  missing(pipe: ClickPipe): Blocker | undefined {
    const ns = namespaceOf(pipe);
    for (const ref of secretReferences(pipe.spec)) {
      const on = ref.path.startsWith("spec.source") ? "source" : "destination";
      const secret = this.get(pipe, ref.name);
      if (!secret) {
        return { on, reason: ConditionReason.SecretNotFound, message: `Secret "${ref.name}" (${ref.path}) not found in namespace ${ns}: create it with key(s) ${ref.keys.join(", ")}` };
      }
      const absent = ref.keys.filter((k) => decode(secret, k) === undefined);
      if (absent.length > 0) {
        return { on, reason: ConditionReason.SecretKeyMissing, message: `Secret "${ref.name}" (${ref.path}) has no key(s) ${absent.join(", ")}: add them` };
      }
    }
    return undefined;
  }

  /** The destination with the admin credentials the pipe references. */
  adminEndpoint(pipe: ClickPipe): Endpoint {
    const c = pipe.spec.destination.clickhouse;
    const secret = this.get(pipe, c.credentialsSecretRef.name);
    return { url: c.url, username: decode(secret, "username") ?? "", password: decode(secret, "password") ?? "" };
  }

  /** The Secrets of the pipe's namespace, for clients built with the pipe's credentials. */
  resolver(pipe: ClickPipe): SecretResolver {
    return {
      get: (name, key) => {
        const value = decode(this.get(pipe, name), key);
        if (value === undefined) throw new ConfigError(`Secret "${name}" has no key "${key}" in namespace ${namespaceOf(pipe)}`, { secret: name, key });
        return value;
      },
    };
  }
}

export function namespaceOf(pipe: Pick<ClickPipe, "metadata">): string {
  return pipe.metadata.namespace ?? "default";
}

export function decode(secret: KubeObject | undefined, key: string): string | undefined {
  return secretValue(secret as { data?: Record<string, string> } | undefined, key);
}
