/**
 * S3 and S3-compatible stores (DigitalOcean Spaces, GCS through its HMAC interoperability
 * endpoint, versitygw here) through @aws-sdk/client-s3; ClickHouse reads them with s3()
 * (gcs() for GCS), path-style for a custom endpoint, SigV4 with the same credentials.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentials } from "../aws-credentials.js";
import type { Location } from "./location.js";
import { type ObjectInfo, type ObjectStore, type PullRequest, type TableFunction, quoteLiteral, urlPath, sourceError } from "./store.js";

export interface S3StoreOptions {
  readonly location: Location;
  /** Undefined: a public bucket (unsigned requests). */
  readonly credentials: (() => Promise<AwsCredentials>) | undefined;
  /** The ClickHouse table function: s3, or gcs for GCS's interoperability endpoint. */
  readonly tableFunction: "s3" | "gcs";
  /** Endpoint of the clouds' own service when the URL named none (GCS: https://storage.googleapis.com). */
  readonly defaultEndpoint?: string;
}

/** Unsigned requests for public buckets: the SDK sends no Authorization header. */
const NO_SIGNING = { sign: <T>(request: T): Promise<T> => Promise.resolve(request) };

export function s3ClientConfig(opts: S3StoreOptions): S3ClientConfig {
  const endpoint = opts.location.endpoint ?? opts.defaultEndpoint;
  return {
    region: opts.location.region ?? "us-east-1",
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    ...(opts.credentials === undefined ? { signer: NO_SIGNING, credentials: { accessKeyId: "", secretAccessKey: "" } } : { credentials: opts.credentials }),
    maxAttempts: 3,
    // The SDK's default checks a CRC32 of every downloaded object in JavaScript (a fifth of a
    // core while streaming files, profiled); TLS already protects the bytes in transit and a
    // corrupt compressed file fails its decompression, so it is checked only where S3 requires it.
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 120_000 }),
  };
}

export class S3Store implements ObjectStore {
  private readonly client: S3Client;

  constructor(private readonly opts: S3StoreOptions) {
    this.client = new S3Client(s3ClientConfig(opts));
  }

  async *list(prefix: string, signal: AbortSignal): AsyncIterable<ObjectInfo> {
    const bucket = this.opts.location.bucket;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
      } catch (err) {
        throw sourceError(`cannot list s3://${bucket}/${prefix}`, err, { bucket, prefix });
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield { key: o.Key, size: o.Size ?? 0, etag: (o.ETag ?? "").replaceAll('"', ""), modified: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async read(key: string, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    const bucket = this.opts.location.bucket;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return out.Body as NodeJS.ReadableStream;
    } catch (err) {
      throw sourceError(`cannot read s3://${bucket}/${key}`, err, { bucket, key });
    }
  }

  async check(prefix: string, signal: AbortSignal): Promise<void> {
    const bucket = this.opts.location.bucket;
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }), { abortSignal: signal });
    } catch (err) {
      throw sourceError(`cannot list s3://${bucket}/${prefix}`, err, { bucket, prefix });
    }
  }

  /** The object's URL as ClickHouse addresses it: path-style on a custom endpoint, virtual-hosted on AWS. */
  objectUrl(key: string): string {
    const { endpoint, bucket, region } = this.opts.location;
    const base = endpoint ?? this.opts.defaultEndpoint;
    if (base !== undefined) return `${base}/${bucket}/${urlPath(key)}`;
    return `https://${bucket}.s3.${region ?? "us-east-1"}.amazonaws.com/${urlPath(key)}`;
  }

  async tableFunction(req: PullRequest): Promise<TableFunction> {
    const tail = `${quoteLiteral(req.format)}, {structure:String}, ${quoteLiteral(req.compression)}`;
    const params: Record<string, string> = { url: this.objectUrl(req.key) };
    if (this.opts.credentials === undefined) return { sql: `${this.opts.tableFunction}({url:String}, NOSIGN, ${tail})`, params };
    const c = await this.opts.credentials();
    params.key_id = c.accessKeyId;
    params.secret = c.secretAccessKey;
    if (c.sessionToken === undefined) return { sql: `${this.opts.tableFunction}({url:String}, {key_id:String}, {secret:String}, ${tail})`, params };
    params.token = c.sessionToken;
    return { sql: `${this.opts.tableFunction}({url:String}, {key_id:String}, {secret:String}, {token:String}, ${tail})`, params };
  }

  close(): void {
    this.client.destroy();
  }
}
