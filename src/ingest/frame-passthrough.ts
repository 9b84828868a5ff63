import { parseRegistryUrl } from "./decoders/registry-client.js";
import { DestinationError } from "./errors.js";

/**
 * How a passed-through batch is inserted when its records are not JSON lines: records are
 * concatenated as they are (no separator) into `INSERT ... FORMAT <format>` with `settings`,
 * and ClickHouse decodes them. Records `accepts` refuses take the consumer's decode path.
 */
export interface FrameFormat {
  readonly format: string;
  /** Query settings; may hold a secret (the registry URL's credentials): never logged. */
  readonly settings: Readonly<Record<string, string>>;
  readonly accepts: (value: Buffer | null) => boolean;
  /** Set while ClickHouse cannot reach what it needs to decode (the registry): the consumer decodes meanwhile. */
  readonly pause: FramePause;
}

/**
 * A server that cannot reach the registry (a private registry, a ClickHouse Cloud service
 * outside the network) must not stall a pipe whose consumer can: its batches are decoded by
 * the consumer for a while, then ClickHouse is tried again, since the path may come back.
 */
export class FramePause {
  private until = 0;
  constructor(private readonly ms = 5 * 60_000) {}
  paused(now = Date.now()): boolean {
    return now < this.until;
  }
  pauseFrom(now = Date.now()): void {
    this.until = now + this.ms;
  }
}

export interface RegistryAccess {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
}

/** The registry URL ClickHouse fetches schemas from, basic-auth credentials in it (its only way to take them). */
export function registryUrlWithCredentials(registry: RegistryAccess): string {
  const url = new URL(parseRegistryUrl(registry.url).base);
  if (registry.username !== undefined) {
    url.username = encodeURIComponent(registry.username);
    url.password = encodeURIComponent(registry.password ?? "");
  }
  return url.toString().replace(/\/+$/, "");
}

/**
 * ClickHouse decodes AvroConfluent frames itself (schema by the id in each frame, fetched by
 * the server from the registry), or undefined when it cannot: a registry URL that pins a
 * schema by subject or id is the consumer's (ClickHouse reads framed messages only).
 */
export function avroConfluentFrames(registry: RegistryAccess, framed: (value: Buffer | null) => boolean): FrameFormat | undefined {
  if (parseRegistryUrl(registry.url).pin !== undefined) return undefined;
  return { format: "AvroConfluent", settings: { format_avro_schema_registry_url: registryUrlWithCredentials(registry) }, accepts: framed, pause: new FramePause() };
}

/**
 * Whether a table's records may be passed through: JSON lines as the mapper says; frames only when every column is a field of the same name. Virtual columns
 * (`_topic`, `_partition`, `_offset`...) need values per record that a frame does not carry,
 * so such a table keeps the consumer's decode.
 */
export function framesFit(frames: FrameFormat | undefined, mapper: { readonly passthrough: boolean; readonly byName?: boolean }): boolean {
  return frames === undefined ? mapper.passthrough : mapper.byName === true;
}

/** ClickHouse's code for an error answer from a remote server (the registry), and a 404 in its message. */
const REMOTE_SERVER_ERROR = 86;
/** ClickHouse's code for a failed connection to a remote server (in a frames insert, only the registry is remote). */
const NETWORK_ERROR = 210;
const NOT_FOUND = /HTTP status code: 404\b/;

/**
 * A frames insert's failure, as the insert policy must see it. The consumer fetched every id
 * of the batch before sending it, so a registry 404 from the engine means it read an id out of
 * bytes that are not a frame (an undecodable frame before it shifted where the next one
 * starts): a refusal of the data, which the consumer's decode then narrows to the bad records.
 * Everything else keeps its class: an unreachable registry (NETWORK_ERROR) or a registry
 * answering 401/5xx is a system error, retried.
 */
export function framesFailure(err: unknown): unknown {
  if (!(err instanceof DestinationError) || err.dataError || err.code !== REMOTE_SERVER_ERROR || !NOT_FOUND.test(err.message)) return err;
  return new DestinationError(`ClickHouse read a schema id the registry does not have out of the frames: ${err.message}`, {
    retriable: false,
    dataError: true,
    code: err.code,
    cause: err,
  });
}

/**
 * Whether a frames insert failed because the server could not use the registry (unreachable,
 * or answering an error other than 404): the consumer, which fetched every schema of the
 * batch already, can decode it instead. A 404 is not this: framesFailure makes it a refusal.
 */
export function serverCannotReachRegistry(err: unknown): boolean {
  if (!(err instanceof DestinationError) || err.dataError) return false;
  return err.code === NETWORK_ERROR || (err.code === REMOTE_SERVER_ERROR && !NOT_FOUND.test(err.message));
}
