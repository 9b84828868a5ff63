import { MAX_REPLICAS, type ClickPipeSpec, type ObjectStorageSource, parseDuration, pipeId, secretReferences } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SourcePlugin } from "../plugin.js";
import { awsCredentials, storeAuth } from "./auth.js";
import { clickhouseFilesRecord } from "./files-record.js";
import { compileGlob } from "./glob.js";
import { parseLocation } from "./location.js";
import { probeObjectStorage } from "./probe.js";
import { queueRegion, sqsQueue } from "./queue.js";
import { ObjectStorageRecordSource } from "./source.js";
import { VIRTUAL_COLUMN_NAMES } from "./statement.js";
import { openStore } from "./stores.js";
import type { Transfer } from "./transfer.js";
import { OBJECT_STORAGE_VIRTUAL_COLUMNS } from "./virtual-columns.js";

export function objectStorageSpec(spec: Pick<ClickPipeSpec, "source">): ObjectStorageSource {
  const os = spec.source.objectStorage;
  if (os === undefined) throw new ConfigError("the object storage plugin was given a pipe without spec.source.objectStorage");
  return os;
}

/**
 * Which way bytes move by default, per store (measured by bench/object-storage.ts, see
 * docs/sources/object-storage.md): ClickHouse reads the files itself wherever it can.
 */
export const DEFAULT_TRANSFER: Transfer = "clickhouse";

/**
 * What the pipe's ClickHouse user needs to read the files itself: the source privilege of the
 * table function (s3/gcs: S3, url: URL, azureBlobStorage: AZURE) and CREATE TEMPORARY TABLE,
 * which a server checks for every table function. None where the consumer streams the bytes.
 */
export function readPrivileges(source: ObjectStorageSource): string[] {
  const tableFunction = ["CREATE TEMPORARY TABLE"];
  if (source.type === "azureblobstorage") return [...tableFunction, "AZURE"];
  if (source.type === "gcs" && source.authentication === "SERVICE_ACCOUNT") return [];
  if (source.type === "gcs" && source.authentication === undefined) return [...tableFunction, "URL"];
  return [...tableFunction, "S3"];
}

export interface ObjectStoragePluginOptions {
  /** `clickhouse` (ClickHouse reads the files) or `consumer` (the consumer streams them into INSERT ... FORMAT). */
  readonly transfer?: Transfer;
  /** Replaces spec.settings.objectStoragePollingInterval (tests that add files while a pipe runs). */
  readonly pollMs?: number;
}

/** Files in S3, GCS, DigitalOcean Spaces or Azure Blob Storage; positions (one per file) in the checkpoint store. */
export function objectStoragePluginWith(options: ObjectStoragePluginOptions = {}): SourcePlugin {
  return {
    kind: "objectStorage",
    // Replicas split the files by a hash of the key and a stable replica index.
    capabilities: (spec) => ({
      maxReplicas: MAX_REPLICAS,
      mode: objectStorageSpec(spec).continuous ? "continuous" : "oneShot",
      lagUnit: "bytes",
      positions: "checkpointStore",
      replicaIdentity: "index",
      filesTable: true,
    }),
    virtualColumns: OBJECT_STORAGE_VIRTUAL_COLUMNS,
    secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
    tables: (spec) => (spec.destination.table === undefined ? [] : [spec.destination.table]),
    format: (spec) => ({ format: objectStorageSpec(spec).format }),
    probe: probeObjectStorage,
    sourcePrivileges: (spec) => (options.transfer === "consumer" ? [] : readPrivileges(objectStorageSpec(spec))),
    open(ctx) {
      const spec = ctx.pipe.spec;
      const source = objectStorageSpec(spec);
      const location = parseLocation(source);
      const auth = storeAuth(ctx.pipe, source, ctx.secrets);
      const store = openStore(source, location, auth);
      const region = queueRegion(source.queueUrl ?? "", location.region ?? "us-east-1");
      const queue = source.queueUrl === undefined ? undefined : sqsQueue(source.queueUrl, region, awsCredentials(auth, region), ctx.logger);
      const files = clickhouseFilesRecord({
        pipe: pipeId(ctx.pipe),
        database: spec.destination.database,
        table: spec.destination.table ?? "",
        clickhouse: ctx.clickhouse,
        checkpoints: ctx.checkpoints,
        logger: ctx.logger,
        signal: ctx.signal,
      });
      const mappings = new Map((spec.fieldMappings ?? []).map((m) => [m.destinationField, m.sourceField]));
      const virtual = new Set<string>(VIRTUAL_COLUMN_NAMES);
      const lineColumns = (spec.destination.columns ?? []).filter((c) => !virtual.has(c.name)).map((c) => mappings.get(c.name) ?? c.name);
      return new ObjectStorageRecordSource({
        transfer: { pipe: pipeId(ctx.pipe), store, bucket: location.bucket, source, spec, transfer: options.transfer ?? DEFAULT_TRANSFER },
        glob: compileGlob(location.pattern),
        pollMs: options.pollMs ?? parseDuration(spec.settings.objectStoragePollingInterval),
        lineColumns,
        replica: ctx.replica,
        checkpoints: ctx.checkpoints,
        logger: ctx.logger,
        onFatal: ctx.onFatal,
        files,
        ...(queue === undefined ? {} : { queue }),
      });
    },
  };
}

export const objectStoragePlugin: SourcePlugin = objectStoragePluginWith();
