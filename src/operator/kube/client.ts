import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";

/**
 * A thin Kubernetes REST client: JSON requests and line-delimited watch streams over one
 * keep-alive agent. The generated clients of @kubernetes/client-node hide the content types
 * server-side apply needs and their informer gives up after one failed watch, so the
 * operator speaks REST itself and uses the library only to read kubeconfig / in-cluster auth.
 */

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject | KubeStatus;
}

/** The apiserver's error body (kind: Status). */
export interface KubeStatus {
  kind?: "Status";
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

/** A non-2xx answer from the apiserver, with the request that got it. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(`${method} ${path}: ${statusCode} ${reason}: ${detail}`);
    this.name = "KubeApiError";
  }

  get notFound(): boolean {
    return this.statusCode === 404;
  }

  get conflict(): boolean {
    return this.statusCode === 409;
  }

  get gone(): boolean {
    return this.statusCode === 410;
  }
}

export interface RequestOptionsLite {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

/** Observes each request (for the API request counter of /metrics and the bench). */
export type RequestObserver = (verb: string, path: string, statusCode: number) => void;

export const PATCH_APPLY = "application/apply-patch+yaml";
export const PATCH_MERGE = "application/merge-patch+json";

export function withQuery(path: string, query: RequestOptionsLite["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** A token bucket: at most `qps` requests per second on average, bursts up to twice that. */
class RateLimiter {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly qps: number) {
    this.tokens = qps * 2;
  }

  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.qps * 2, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.qps) * 1000)));
    }
  }
}

export class KubeClient {
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly limiter: RateLimiter;
  private headers: OutgoingHttpHeaders = {};
  private tls: RequestOptions = {};
  private authAt = 0;

  private constructor(
    private readonly config: KubeConfig,
    qps: number,
    private readonly observe: RequestObserver | undefined,
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster: set KUBECONFIG or run in a pod");
    this.url = new URL(cluster.server);
    this.limiter = new RateLimiter(qps);
    this.agent = new Agent({ keepAlive: true, maxSockets: 32 });
  }

  /** KUBECONFIG, else ~/.kube/config, else the in-cluster service account (the library's default order). */
  static async fromEnvironment(qps: number, observe?: RequestObserver): Promise<KubeClient> {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    const client = new KubeClient(kc, qps, observe);
    await client.refreshAuth();
    return client;
  }

  /** Re-reads auth at most once a minute so a rotated in-cluster token is picked up. */
  private async refreshAuth(): Promise<void> {
    if (Date.now() - this.authAt < 60_000) return;
    const opts: RequestOptions = {};
    await this.config.applyToHTTPSOptions(opts);
    const headers: OutgoingHttpHeaders = {};
    if (opts.headers && !Array.isArray(opts.headers)) Object.assign(headers, opts.headers);
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
    this.headers = headers;
    this.tls = { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername };
    this.authAt = Date.now();
  }

  private async open(method: string, path: string, opts: RequestOptionsLite): Promise<IncomingMessage> {
    await this.refreshAuth();
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: OutgoingHttpHeaders = { ...this.headers, accept: "application/json" };
    if (body !== undefined) {
      headers["content-type"] = opts.contentType ?? "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const isHttps = this.url.protocol === "https:";
    const reqOpts: RequestOptions = {
      method,
      host: this.url.hostname,
      port: this.url.port || (isHttps ? 443 : 80),
      path: (this.url.pathname.replace(/\/$/, "") + withQuery(path, opts.query)),
      headers,
      signal: opts.signal,
      ...(isHttps ? { agent: this.agent, ...this.tls } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = (isHttps ? httpsRequest : httpRequest)(reqOpts, resolve);
      req.on("error", reject);
      req.end(body);
    });
  }

  /** One JSON request; a non-2xx answer rejects with KubeApiError. */
  async request<T>(method: string, path: string, opts: RequestOptionsLite = {}): Promise<T> {
    await this.limiter.take();
    const res = await this.open(method, path, opts);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    this.observe?.(method, path, status);
    if (status < 200 || status >= 300) throw toApiError(status, method, path, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * Stream watch events of `path` until the server ends the watch, the signal aborts, or the
   * connection fails. Resolves on a normal end; rejects on failure (KubeApiError for a non-2xx).
   */
  async watch(path: string, query: RequestOptionsLite["query"], onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    await this.limiter.take();
    const res = await this.open("GET", path, { query: { ...query, watch: 1 }, signal });
    const status = res.statusCode ?? 0;
    this.observe?.("WATCH", path, status);
    if (status !== 200) throw toApiError(status, "WATCH", path, await readAll(res));
    let buffered = "";
    res.setEncoding("utf8");
    for await (const chunk of res as AsyncIterable<string>) {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) onEvent(JSON.parse(line) as WatchEvent);
      }
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding("utf8");
  let out = "";
  for await (const chunk of res as AsyncIterable<string>) out += chunk;
  return out;
}

function toApiError(status: number, method: string, path: string, text: string): KubeApiError {
  let reason = "Unknown";
  let message = text.slice(0, 500);
  try {
    const s = JSON.parse(text) as KubeStatus;
    reason = s.reason ?? reason;
    message = s.message ?? message;
  } catch (parseError) {
    // a proxy's HTML error page is not JSON: keep its text as the message
    message = `${message} (${parseError instanceof Error ? "non-JSON body" : "unreadable body"})`;
  }
  return new KubeApiError(status, reason, method, path, message);
}
