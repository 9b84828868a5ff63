/**
 * GCS through @google-cloud/storage's JSON API, with a service account key (or no
 * credentials: a public bucket, or fake-gcs-server here). ClickHouse has no way to use a
 * service account key, so ClickHouse reads GCS itself only with HMAC keys (see
 * s3-store.ts, gcs()); with a public bucket it reads the object's media URL with url().
 */
import { type File, Storage, type StorageOptions } from "@google-cloud/storage";
import type { Location } from "./location.js";
import { type ObjectInfo, type ObjectStore, type PullRequest, type TableFunction, quoteLiteral, sourceError } from "./store.js";

export interface GcsStoreOptions {
  readonly location: Location;
  /** The service account key; undefined: anonymous (public bucket, emulator). */
  readonly serviceAccountKey: Record<string, unknown> | undefined;
}

export function gcsStorageOptions(opts: GcsStoreOptions): StorageOptions {
  const endpoint = opts.location.endpoint;
  return {
    ...(endpoint === undefined ? {} : { apiEndpoint: endpoint }),
    ...(opts.serviceAccountKey === undefined ? {} : { credentials: opts.serviceAccountKey, projectId: typeof opts.serviceAccountKey.project_id === "string" ? opts.serviceAccountKey.project_id : "" }),
    ...(opts.serviceAccountKey === undefined && endpoint !== undefined ? { projectId: "test" } : {}),
    retryOptions: { autoRetry: true, maxRetries: 3 },
  };
}

export class GcsStore implements ObjectStore {
  private readonly storage: Storage;

  constructor(private readonly opts: GcsStoreOptions) {
    this.storage = new Storage(gcsStorageOptions(opts));
  }

  private get bucketName(): string {
    return this.opts.location.bucket;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let query: { prefix: string; autoPaginate: false; pageToken?: string } | undefined = { prefix, autoPaginate: false };
    while (query !== undefined) {
      let files: File[];
      let next: unknown;
      try {
        [files, next] = await this.storage.bucket(this.bucketName).getFiles(query);
      } catch (err) {
        throw sourceError(`cannot list gs://${this.bucketName}/${prefix}`, err, { bucket: this.bucketName, prefix });
      }
      for (const f of files) {
        const m = f.metadata;
        yield { key: f.name, size: Number(m.size ?? 0), etag: String(m.generation ?? m.etag ?? ""), modified: Date.parse(String(m.updated ?? "")) || 0 };
      }
      const token: string | undefined = (next as { pageToken?: string } | null | undefined)?.pageToken;
      query = token === undefined ? undefined : { prefix, autoPaginate: false, pageToken: token };
    }
  }

  read(key: string): Promise<NodeJS.ReadableStream> {
    // The SDK would gunzip objects stored with Content-Encoding: gzip; the pipe decompresses as the spec says.
    return Promise.resolve(this.storage.bucket(this.bucketName).file(key).createReadStream({ decompress: false, validation: false }));
  }

  async check(prefix: string): Promise<void> {
    try {
      await this.storage.bucket(this.bucketName).getFiles({ prefix, maxResults: 1, autoPaginate: false });
    } catch (err) {
      throw sourceError(`cannot list gs://${this.bucketName}/${prefix}`, err, { bucket: this.bucketName, prefix });
    }
  }

  /** Anonymous access only (public bucket, emulator): ClickHouse's url() on the object's media link. */
  tableFunction(req: PullRequest): Promise<TableFunction | undefined> {
    if (this.opts.serviceAccountKey !== undefined) return Promise.resolve(undefined);
    const base = this.opts.location.endpoint ?? "https://storage.googleapis.com";
    const url = `${base}/download/storage/v1/b/${encodeURIComponent(this.bucketName)}/o/${encodeURIComponent(req.key)}?alt=media`;
    return Promise.resolve({
      sql: `url({url:String}, ${quoteLiteral(req.format)}, {structure:String}, ${quoteLiteral(req.compression)})`,
      params: { url },
    });
  }

  close(): void {
    // The SDK holds no sockets open between calls.
  }
}
