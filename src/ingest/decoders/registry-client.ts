import { ConfigError, SourceError, errorMessage } from "../errors.js";

export interface SchemaRegistryOptions {
  /**
   * URL of a Confluent-compatible registry, as ClickPipes takes it: the registry's root, or
   * `<root>/schemas/ids/<id>`, or `<root>/subjects/<subject>[/versions/<version>]` to pin
   * the schema of messages that carry no schema id.
   */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
}

export type SchemaPin = { readonly id: number } | { readonly subject: string; readonly version: string };

export interface RegistryTarget {
  /** The registry's root, without a trailing slash. */
  readonly base: string;
  readonly pin?: SchemaPin;
}

/** Another registered schema a schema imports (Confluent schema references). */
export interface SchemaReference {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

/** A schema as the registry serves it; schemaType is absent for Avro in Confluent's API. */
export interface RegistrySchema {
  readonly id: number;
  readonly schema: string;
  readonly schemaType: string;
  readonly references: readonly SchemaReference[];
  /** The referenced schemas' texts by import name, transitively (filled by withReferences). */
  readonly imports?: Readonly<Record<string, string>>;
  /** The same texts, each after the ones it references: the order Avro defines their named types in. */
  readonly dependencies?: readonly string[];
}

/** The schema text and type of a registry answer; Confluent's API leaves schemaType out for Avro. */
function schemaOf(body: Record<string, unknown>): { schema: string; schemaType: string; references: SchemaReference[] } {
  const references = Array.isArray(body.references) ? (body.references as Partial<SchemaReference>[]) : [];
  return {
    schema: typeof body.schema === "string" ? body.schema : "",
    schemaType: typeof body.schemaType === "string" ? body.schemaType : "AVRO",
    references: references.map((r) => ({ name: String(r.name ?? ""), subject: String(r.subject ?? ""), version: Number(r.version ?? 0) })),
  };
}

/** Split a registry URL into its root and the schema it pins, if any (pure). */
export function parseRegistryUrl(url: string): RegistryTarget {
  const trimmed = url.replace(/\/+$/, "");
  const byId = /^(.*)\/schemas\/ids\/(\d+)$/.exec(trimmed);
  if (byId !== null) return { base: byId[1] as string, pin: { id: Number(byId[2]) } };
  const bySubject = /^(.*)\/subjects\/([^/]+)(?:\/versions\/([^/]+))?$/.exec(trimmed);
  if (bySubject !== null) {
    return { base: bySubject[1] as string, pin: { subject: decodeURIComponent(bySubject[2] as string), version: bySubject[3] ?? "latest" } };
  }
  return { base: trimmed };
}

/**
 * The Confluent schema registry API, reduced to the two lookups a consumer makes. A schema
 * the registry does not have is `undefined`; an unreachable or failing registry is a
 * retriable SourceError (a system error: nothing is decoded until it answers); refused
 * credentials are a ConfigError.
 */
export class SchemaRegistryClient {
  readonly target: RegistryTarget;
  private readonly headers: Record<string, string>;
  /** Referenced subject versions already fetched (they never change). */
  private readonly references = new Map<string, RegistrySchema>();

  constructor(opts: SchemaRegistryOptions) {
    this.target = parseRegistryUrl(opts.url);
    this.headers = { accept: "application/vnd.schemaregistry.v1+json, application/json" };
    if (opts.username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ""}`).toString("base64")}`;
    }
  }

  /** The schema with this id, or undefined when the registry has none. */
  async byId(id: number): Promise<RegistrySchema | undefined> {
    const body = await this.get(`/schemas/ids/${id}`);
    return body === undefined ? undefined : { id, ...schemaOf(body) };
  }

  /** A subject's version (a number or "latest"); a missing subject or version is a configuration error. */
  async bySubject(subject: string, version: string): Promise<RegistrySchema> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions/${encodeURIComponent(version)}`;
    const body = await this.get(path);
    if (body === undefined) throw new ConfigError(`schema registry has no subject ${subject} version ${version}`, { subject, version });
    return { id: Number(body.id), ...schemaOf(body) };
  }

  /**
   * The entry with the texts of the schemas it references, followed transitively, depth
   * first so each comes after its own references. A subject's numbered version is immutable,
   * so it is asked of the registry once for the life of the client, whichever schemas share it.
   */
  async withReferences(entry: RegistrySchema): Promise<RegistrySchema> {
    if (entry.references.length === 0) return entry;
    const imports: Record<string, string> = {};
    const dependencies: string[] = [];
    const visit = async (references: readonly SchemaReference[]): Promise<void> => {
      for (const ref of references) {
        if (Object.hasOwn(imports, ref.name)) continue;
        const referenced = await this.referenced(ref);
        // Marked before its own references are followed, so a cycle ends here.
        imports[ref.name] = referenced.schema;
        await visit(referenced.references);
        dependencies.push(referenced.schema);
      }
    };
    await visit(entry.references);
    return { ...entry, imports, dependencies };
  }

  private async referenced(ref: SchemaReference): Promise<RegistrySchema> {
    const key = `${ref.subject}\u0000${ref.version}`;
    const cached = this.references.get(key);
    if (cached !== undefined) return cached;
    // Confluent's -1 means the latest version, which can change: not kept.
    const version = ref.version < 0 ? "latest" : String(ref.version);
    const found = await this.bySubject(ref.subject, version);
    if (ref.version >= 0) this.references.set(key, found);
    return found;
  }

  /** The pinned schema of the URL, if it pins one. */
  async pinned(): Promise<RegistrySchema | undefined> {
    const pin = this.target.pin;
    if (pin === undefined) return undefined;
    if ("id" in pin) {
      const found = await this.byId(pin.id);
      if (found === undefined) throw new ConfigError(`schema registry has no schema id ${pin.id}`, { id: pin.id });
      return found;
    }
    return this.bySubject(pin.subject, pin.version);
  }

  private async get(path: string): Promise<Record<string, unknown> | undefined> {
    // The URL is logged without credentials: they travel only in the header.
    const url = `${this.target.base}${path}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: this.headers, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new SourceError(`schema registry ${url} unreachable: ${errorMessage(err)}`, { retriable: true, cause: err, context: { url } });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new ConfigError(`schema registry ${url} refused the credentials (${response.status}); check schemaRegistry.credentialsSecretRef`, { url });
    }
    if (!response.ok) {
      const text = await response.text();
      throw new SourceError(`schema registry ${url} answered ${response.status}: ${text.slice(0, 200)}`, { retriable: true, context: { url } });
    }
    return (await response.json()) as Record<string, unknown>;
  }
}
