import { backoffDelay } from "../../ingest/retry.js";
import type { KubeList, KubeObject, KubeStatus, RequestOptionsLite, WatchEvent } from "./client.js";
import { KubeApiError } from "./client.js";

/** The part of KubeClient an informer uses (a fake stands in for it in unit tests). */
export interface WatchClient {
  request<T>(method: string, path: string, opts?: RequestOptionsLite): Promise<T>;
  watch(path: string, query: RequestOptionsLite["query"], onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

export type InformerEventType = "add" | "update" | "delete";
export type InformerHandler = (type: InformerEventType, obj: KubeObject) => void;

export interface InformerOptions {
  /** Collection path, e.g. `/apis/apps/v1/deployments` or `/api/v1/namespaces/a/secrets`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly onEvent: InformerHandler;
  /** Told about every watch failure; the informer recovers by itself. */
  readonly onError: (error: unknown, willRelist: boolean) => void;
  /** Server-side watch timeout (default 300 s, jittered so watches do not all end together). */
  readonly watchTimeoutSeconds?: number;
  /** A watch silent for this long (no event, no bookmark) is considered stalled and restarted. */
  readonly stallMs?: number;
  readonly pageSize?: number;
  readonly retryBaseMs?: number;
}

class GoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoneError";
  }
}

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/** Managed fields are large and never read: dropping them halves the cache. */
function slim(obj: KubeObject): KubeObject {
  if (!("managedFields" in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata as KubeObject["metadata"] & { managedFields?: unknown };
  return { ...obj, metadata };
}

/**
 * List-then-watch cache of one resource, that never gives up: a watch that ends is resumed
 * from the last resourceVersion (kept fresh by bookmarks), a 410 Gone or repeated failure
 * re-lists and emits the difference, and a watch that goes silent is aborted and restarted.
 */
export class Informer {
  private readonly store = new Map<string, KubeObject>();
  private resourceVersion = "";
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private syncedOnce = false;
  private lastActivity = Date.now();

  constructor(
    private readonly client: WatchClient,
    private readonly opts: InformerOptions,
  ) {}

  get synced(): boolean {
    return this.syncedOnce;
  }

  /** Milliseconds since the watch last showed signs of life. */
  get silentForMs(): number {
    return Date.now() - this.lastActivity;
  }

  get(key: string): KubeObject | undefined {
    return this.store.get(key);
  }

  list(): KubeObject[] {
    return [...this.store.values()];
  }

  /**
   * Puts an object we just wrote into the cache, unless the cache already has a newer one,
   * so the next reconcile does not act on what it wrote as if it had not happened (client-go's
   * mutation cache). resourceVersions are etcd revisions here, so they compare as numbers.
   */
  remember(obj: KubeObject): void {
    const key = objectKey(obj);
    const cached = this.store.get(key);
    const rv = Number(obj.metadata.resourceVersion);
    if (cached && !(rv > Number(cached.metadata.resourceVersion))) return;
    this.store.set(key, slim(obj));
  }

  start(): void {
    this.stopped = false;
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  /** Resolves once the first list has filled the cache. */
  async waitForSync(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.syncedOnce) {
      if (Date.now() > deadline) throw new Error(`informer ${this.opts.path}: not synced after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  private async run(): Promise<void> {
    let needList = true;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (needList) await this.relist();
        needList = false;
        await this.watchOnce();
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        failures++;
        needList = error instanceof GoneError || (error instanceof KubeApiError && error.gone) || failures >= 3;
        this.opts.onError(error, needList);
        // the ingest core's one backoff, with jitter so informers that failed together do not retry in step
        if (!(error instanceof GoneError)) await sleep(backoffDelay(failures, { initialMs: this.opts.retryBaseMs ?? 500, maxMs: 30_000 }));
      }
    }
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await this.client.request<KubeList>("GET", this.opts.path, {
        query: { labelSelector: this.opts.labelSelector, limit: this.opts.pageSize ?? 500, continue: cont },
      });
      for (const item of page.items) fresh.set(objectKey(item), slim(item));
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? "";
    } while (cont);
    this.lastActivity = Date.now();
    const old = new Map(this.store);
    this.store.clear();
    for (const [k, obj] of fresh) this.store.set(k, obj);
    this.resourceVersion = rv;
    this.syncedOnce = true;
    for (const [k, obj] of old) if (!fresh.has(k)) this.opts.onEvent("delete", obj);
    for (const [k, obj] of fresh) {
      const before = old.get(k);
      if (!before) this.opts.onEvent("add", obj);
      else if (before.metadata.resourceVersion !== obj.metadata.resourceVersion) this.opts.onEvent("update", obj);
    }
  }

  private async watchOnce(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    const timeout = this.opts.watchTimeoutSeconds ?? 300;
    const stallMs = this.opts.stallMs ?? (timeout + 60) * 1000;
    this.lastActivity = Date.now();
    const stallTimer = setInterval(() => {
      if (this.silentForMs > stallMs) abort.abort(new Error(`watch ${this.opts.path} silent for ${this.silentForMs} ms`));
    }, Math.min(5_000, Math.max(10, stallMs / 4)));
    try {
      await this.client.watch(
        this.opts.path,
        {
          labelSelector: this.opts.labelSelector,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.round(timeout * (0.8 + Math.random() * 0.4)),
        },
        (e) => this.apply(e),
        abort.signal,
      );
    } catch (error) {
      if (abort.signal.aborted && !this.stopped) throw new Error(`watch ${this.opts.path} stalled and was restarted`, { cause: error });
      throw error;
    } finally {
      clearInterval(stallTimer);
    }
  }

  private apply(e: WatchEvent): void {
    this.lastActivity = Date.now();
    if (e.type === "ERROR") {
      const status = e.object as KubeStatus;
      if (status.code === 410) throw new GoneError(`watch ${this.opts.path}: ${status.message ?? "resourceVersion too old"}`);
      throw new Error(`watch ${this.opts.path}: ${status.code ?? "?"} ${status.message ?? "error event"}`);
    }
    const obj = slim(e.object as KubeObject);
    if (obj.metadata.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
    if (e.type === "BOOKMARK") return;
    const key = objectKey(obj);
    if (e.type === "DELETED") {
      this.store.delete(key);
      this.opts.onEvent("delete", obj);
      return;
    }
    const cached = this.store.get(key);
    // an object we remembered after writing it is newer than this (late) event: keep it
    if (cached && Number(cached.metadata.resourceVersion) > Number(obj.metadata.resourceVersion)) return;
    this.store.set(key, obj);
    this.opts.onEvent(cached ? "update" : "add", obj);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
