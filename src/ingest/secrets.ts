import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "./errors.js";

/** Resolves `{ name, key }` Secret references to values; the only way credentials enter the core. */
export interface SecretResolver {
  /** The value of `key` in Secret `name`; throws ConfigError naming both when absent. */
  get(name: string, key: string): string;
}

/** A Secret as it appears in a manifest file (`kind: Secret`, `stringData` or base64 `data`). */
export interface SecretDocument {
  readonly metadata?: { readonly name?: string };
  readonly stringData?: Readonly<Record<string, string>>;
  readonly data?: Readonly<Record<string, string>>;
}

function missing(name: string, key: string, where: string): ConfigError {
  return new ConfigError(`Secret "${name}" has no key "${key}" (${where})`, { secret: name, key });
}

/** For `clickpipes run -f FILE`: the Secrets are documents in the same file. */
export function secretsFromDocuments(docs: readonly SecretDocument[]): SecretResolver {
  const byName = new Map<string, Map<string, string>>();
  for (const doc of docs) {
    const name = doc.metadata?.name;
    if (name === undefined) throw new ConfigError("a Secret document has no metadata.name");
    const values = new Map<string, string>();
    for (const [k, v] of Object.entries(doc.data ?? {})) values.set(k, Buffer.from(v, "base64").toString("utf8"));
    for (const [k, v] of Object.entries(doc.stringData ?? {})) values.set(k, v);
    byName.set(name, values);
  }
  return {
    get(name: string, key: string): string {
      const secret = byName.get(name);
      if (secret === undefined) {
        throw new ConfigError(`Secret "${name}" is referenced but not in the file (Secrets found: ${[...byName.keys()].join(", ") || "none"})`, {
          secret: name,
        });
      }
      const value = secret.get(key);
      if (value === undefined) throw missing(name, key, "kind: Secret document in the file");
      return value;
    },
  };
}

/** For `clickpipes consume`: Secret volumes mounted as `<dir>/<secret>/<key>`. */
export function secretsFromDirectory(dir: string): SecretResolver {
  return {
    get(name: string, key: string): string {
      const file = join(dir, name, key);
      if (!existsSync(join(dir, name))) {
        throw new ConfigError(`Secret "${name}" is not mounted: ${join(dir, name)} does not exist (CLICKPIPE_SECRETS_DIR=${dir})`, { secret: name });
      }
      if (!existsSync(file)) throw missing(name, key, `${file} does not exist`);
      return readFileSync(file, "utf8");
    },
  };
}
