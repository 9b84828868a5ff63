import type avro from "avsc";
import { ErrorType, RecordError, errorMessage } from "../errors.js";
import { type RetryOptions, retry } from "../retry.js";
import type { RawRecord } from "../source.js";
import { compileAvro, typeHasBytes, withoutBuffers } from "./avro-types.js";
import type { DecodedRecord } from "./json.js";
import { type RegistrySchema, SchemaRegistryClient, type SchemaRegistryOptions } from "./registry-client.js";

export type { SchemaRegistryOptions } from "./registry-client.js";

export interface AvroSchema {
  readonly type: avro.Type;
  readonly hasBytes: boolean;
  readonly label: string;
}

/** An Avro schema compiled once, from a registry entry (with the schemas it references) or the manifest. */
export function avroSchema(schema: string, label: string, dependencies: readonly string[] = []): AvroSchema {
  const type = compileAvro(schema, dependencies);
  return { type, hasBytes: typeHasBytes(type), label };
}

/**
 * One Avro binary body (from `offset` to the end: after the framing, if any) → the record's
 * fields; anything else is DATA_PARSING_ERROR. Read in place (no view of the body to allocate).
 */
export function decodeAvroBody(schema: AvroSchema, bytes: Buffer, offset = 0): DecodedRecord {
  let value: unknown;
  try {
    const read = schema.type.decode(bytes, offset);
    if (read.offset < 0) throw new Error("truncated buffer");
    if (read.offset < bytes.length) throw new Error("trailing data");
    value = read.value;
  } catch (err) {
    throw new RecordError(ErrorType.dataParsing, `Avro body does not match ${schema.label}: ${errorMessage(err)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RecordError(ErrorType.dataParsing, `${schema.label} is not an Avro record; ClickPipes maps record fields to columns`);
  }
  // avsc's record instances are read by key like plain objects: no copy.
  return (schema.hasBytes ? withoutBuffers(value) : value) as DecodedRecord;
}

/** The id a Confluent-framed message names (magic byte 0, then a big-endian int32), else undefined. */
export function confluentSchemaId(bytes: Buffer | null): number | undefined {
  return bytes !== null && bytes.length >= 5 && bytes[0] === 0 ? bytes.readInt32BE(1) : undefined;
}

/**
 * Schemas by id, asked of the registry once per id (ids are immutable) and kept for the
 * life of the process; an id the registry does not have is remembered as that error.
 * Fetching happens in `prepare`, before the records are decoded, so decoding stays
 * synchronous; a registry outage waits there (a system error) and never becomes a record error.
 */
export class SchemaCache<S> {
  private readonly schemas = new Map<number, S | RecordError>();
  private readonly inflight = new Map<number, Promise<void>>();
  private pinnedSchema: S | undefined;
  private pinFetched = false;

  constructor(
    readonly client: SchemaRegistryClient,
    private readonly compile: (entry: RegistrySchema) => S | RecordError,
    private readonly retryOptions: RetryOptions | undefined,
  ) {}

  async prepare(records: readonly RawRecord[]): Promise<void> {
    if (!this.pinFetched && this.client.target.pin !== undefined) {
      const entry = await retry(async () => {
        const pinned = await this.client.pinned();
        return pinned === undefined ? undefined : this.client.withReferences(pinned);
      }, this.retryOptions);
      const compiled = entry === undefined ? undefined : this.compile(entry);
      if (compiled instanceof RecordError) throw compiled;
      this.pinnedSchema = compiled;
      this.pinFetched = true;
    }
    const missing = new Set<number>();
    for (const r of records) {
      const id = confluentSchemaId(r.value);
      if (id !== undefined && !this.schemas.has(id)) missing.add(id);
    }
    for (const id of missing) await this.fetch(id);
  }

  /** One lookup per id even when several partitions' fetches name it at once. */
  private fetch(id: number): Promise<void> {
    let pending = this.inflight.get(id);
    if (pending === undefined) {
      pending = retry(async () => {
        const entry = await this.client.byId(id);
        return entry === undefined ? undefined : this.client.withReferences(entry);
      }, this.retryOptions)
        .then((entry) => {
          this.schemas.set(id, entry === undefined ? new RecordError(ErrorType.sourceSchema, `schema id ${id} is not in the registry ${this.client.target.base}`) : this.compile(entry));
        })
        .finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  /** The schema of a fetched id (an error when the registry has none). */
  get(id: number): S | RecordError | undefined {
    return this.schemas.get(id);
  }

  /** The schema the registry URL pins (for messages without a schema id), if any. */
  get pinned(): S | undefined {
    return this.pinnedSchema;
  }
}

/**
 * AvroConfluent: magic byte 0, a 4-byte schema id, then the Avro binary body, decoded with
 * the writer's schema by that id, so a schema change mid-stream needs no restart. When the
 * registry URL pins a schema (by id or subject/version), messages without the framing are
 * decoded as bare Avro bodies with it, as ClickPipes does.
 */
export class AvroConfluentDecoder {
  private readonly cache: SchemaCache<AvroSchema>;

  constructor(opts: SchemaRegistryOptions & { readonly retry?: RetryOptions }) {
    this.cache = new SchemaCache(new SchemaRegistryClient(opts), compileRegistryAvro, opts.retry);
  }

  prepare(records: readonly RawRecord[]): Promise<void> {
    return this.cache.prepare(records);
  }

  /**
   * Whether ClickHouse may decode this frame itself: framed, and its schema id fetched and a
   * valid Avro schema (ids the registry lacks stay with the consumer, which makes them error rows).
   */
  framed(bytes: Buffer | null): boolean {
    const id = confluentSchemaId(bytes);
    if (id === undefined) return false;
    const schema = this.cache.get(id);
    return schema !== undefined && !(schema instanceof RecordError);
  }

  decode(bytes: Buffer | null): DecodedRecord {
    const id = confluentSchemaId(bytes);
    const schema = id === undefined ? undefined : this.cache.get(id);
    if (schema instanceof RecordError) {
      // A pinned schema still reads bare bodies whose first byte happens to be 0; if it cannot, the unknown id is the error.
      if (this.cache.pinned === undefined || bytes === null) throw schema;
      try {
        return decodeAvroBody(this.cache.pinned, bytes);
      } catch {
        throw schema;
      }
    }
    if (schema !== undefined && bytes !== null) return decodeAvroBody(schema, bytes, 5);
    if (this.cache.pinned !== undefined && bytes !== null) return decodeAvroBody(this.cache.pinned, bytes);
    throw new RecordError(ErrorType.dataParsing, "not AvroConfluent: expected magic byte 0 and a 4-byte schema id (or pin a schema by subject or id in the registry URL)");
  }
}

function compileRegistryAvro(entry: RegistrySchema): AvroSchema | RecordError {
  if (entry.schemaType !== "AVRO") return new RecordError(ErrorType.sourceSchema, `schema id ${entry.id} is ${entry.schemaType}, not AVRO`);
  try {
    return avroSchema(entry.schema, `schema id ${entry.id}`, entry.dependencies);
  } catch (err) {
    return new RecordError(ErrorType.sourceSchema, `schema id ${entry.id} is not a valid Avro schema: ${errorMessage(err)}`);
  }
}
