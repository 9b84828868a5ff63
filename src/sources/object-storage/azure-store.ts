/**
 * Azure Blob Storage through @azure/storage-blob with a connection string; ClickHouse reads
 * it with azureBlobStorage() and the same connection string (a query parameter).
 */
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { Location } from "./location.js";
import { type ObjectInfo, type ObjectStore, type PullRequest, type TableFunction, quoteLiteral, sourceError } from "./store.js";

export class AzureStore implements ObjectStore {
  private readonly container: ContainerClient;

  constructor(
    private readonly location: Location,
    private readonly connectionString: string,
  ) {
    this.container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(location.bucket);
  }

  async *list(prefix: string, signal: AbortSignal): AsyncIterable<ObjectInfo> {
    try {
      for await (const blob of this.container.listBlobsFlat({ prefix, abortSignal: signal })) {
        const p = blob.properties;
        yield { key: blob.name, size: p.contentLength ?? 0, etag: (p.etag ?? "").replaceAll('"', ""), modified: p.lastModified.getTime() };
      }
    } catch (err) {
      throw sourceError(`cannot list container ${this.location.bucket} under ${prefix}`, err, { container: this.location.bucket, prefix });
    }
  }

  async read(key: string, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    try {
      const out = await this.container.getBlobClient(key).download(0, undefined, { abortSignal: signal });
      if (out.readableStreamBody === undefined) throw new Error("no body");
      return out.readableStreamBody;
    } catch (err) {
      throw sourceError(`cannot read blob ${this.location.bucket}/${key}`, err, { container: this.location.bucket, key });
    }
  }

  async check(prefix: string, signal: AbortSignal): Promise<void> {
    try {
      await this.container.listBlobsFlat({ prefix, abortSignal: signal }).byPage({ maxPageSize: 1 }).next();
    } catch (err) {
      throw sourceError(`cannot list container ${this.location.bucket}`, err, { container: this.location.bucket });
    }
  }

  tableFunction(req: PullRequest): Promise<TableFunction> {
    return Promise.resolve({
      sql: `azureBlobStorage({cs:String}, {container:String}, {blob:String}, ${quoteLiteral(req.format)}, ${quoteLiteral(req.compression)}, {structure:String})`,
      params: { cs: this.connectionString, container: this.location.bucket, blob: req.key },
    });
  }

  close(): void {
    // The SDK's pipeline keeps no resources that need releasing.
  }
}
