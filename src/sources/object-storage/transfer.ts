/**
 * One file as a bulk statement for the core, by either way of moving its bytes:
 * `clickhouse` (ClickHouse reads the object itself with the store's table function) or
 * `consumer` (the consumer streams the object from the store's SDK, compressed as stored,
 * into `INSERT ... FORMAT`; ClickHouse decodes the HTTP Content-Encoding). A store
 * ClickHouse cannot read with the pipe's credentials (GCS with a service account key) moves
 * its bytes through the consumer whatever the choice.
 */
import type { ClickPipeSpec, ObjectStorageSource } from "../../api/index.js";
import type { BulkInsert, BulkTarget } from "../../ingest/source.js";
import { clickhouseCompression, contentEncoding, fileCompression, isLineFormat } from "./formats.js";
import { Position, resumeStream } from "./plan.js";
import { type FileFacts, fileColumns, fileStructure, insertSelect, querySettings, virtualParams } from "./statement.js";
import type { ObjectInfo, ObjectStore } from "./store.js";

export type Transfer = "clickhouse" | "consumer";

export interface TransferContext {
  readonly pipe: string;
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly source: ObjectStorageSource;
  readonly spec: Pick<ClickPipeSpec, "settings" | "fieldMappings">;
  readonly transfer: Transfer;
  /** The checkpoint stream each finished file's position goes to (plan.ts resumeStream); default replica 0's. */
  readonly stream?: string;
}

function facts(ctx: TransferContext, file: ObjectInfo): FileFacts {
  return { bucket: ctx.bucket, key: file.key, size: file.size, modified: file.modified };
}

function common(ctx: TransferContext, file: ObjectInfo): Omit<BulkInsert, "statement"> {
  const lines = isLineFormat(ctx.source.format);
  return {
    stream: ctx.stream ?? resumeStream(0),
    position: Position.done(file.key),
    bytes: file.size,
    // A malformed line is isolated by the record path; a refused Parquet/Avro file is marked failed and the pipe goes on.
    onRefused: lines ? "return" : "skip",
    skippedPosition: Position.failed(file.key),
    settings: querySettings(ctx.spec.settings, `${ctx.pipe}:${file.key}:${file.etag}`),
  };
}

/** The bulk statement that moves `file` into the pipe's table. */
export async function fileBulk(ctx: TransferContext, file: ObjectInfo): Promise<BulkInsert> {
  const format = ctx.source.format;
  const compression = fileCompression(ctx.source.compression, file.key);
  const virtuals = virtualParams(facts(ctx, file));
  const mappings = ctx.spec.fieldMappings;
  const pulled = ctx.transfer === "clickhouse" ? await ctx.store.tableFunction({ key: file.key, format, compression: clickhouseCompression(compression) }) : undefined;
  if (pulled !== undefined) {
    return {
      ...common(ctx, file),
      statement: (target: BulkTarget) => ({
        query: insertSelect(target, mappings, pulled.sql),
        params: { ...pulled.params, ...virtuals, structure: fileStructure(target, mappings) },
      }),
    };
  }
  const encoding = contentEncoding(compression);
  return {
    ...common(ctx, file),
    statement: (target: BulkTarget) => ({ query: `INSERT INTO ${target.table} (${fileColumns(target)}) FORMAT ${format}` }),
    body: () => ctx.store.read(file.key, AbortSignal.timeout(3_600_000)),
    ...(encoding === undefined ? {} : { headers: { "Content-Encoding": encoding } }),
  };
}
