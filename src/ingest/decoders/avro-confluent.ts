import avro from "avsc";
import { ErrorType, RecordError, SourceError, errorMessage } from "../errors.js";
import { type RetryOptions, retry } from "../retry.js";
import type { RawRecord } from "../source.js";
import type { DecodedRecord } from "./json.js";

export interface SchemaRegistryOptions {
  /** Base URL of a Confluent-compatible registry (its root: /schemas/ids/{id} is appended). */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly retry?: RetryOptions;
}

/** Avro timestamps become ISO 8601 text, which the DateTime64 coercer reads exactly. */
class TimestampMillis extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): unknown {
    return new Date(Number(val)).toISOString();
  }
  protected override _toValue(val: unknown): unknown {
    return Date.parse(String(val));
  }
}

class TimestampMicros extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): unknown {
    const micros = Number(val);
    const seconds = Math.floor(micros / 1e6);
    const fraction = String(micros - seconds * 1e6).padStart(6, "0");
    return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
  }
  protected override _toValue(val: unknown): unknown {
    return Date.parse(String(val)) * 1000;
  }
}

class DateDays extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): unknown {
    return new Date(Number(val) * 86_400_000).toISOString().slice(0, 10);
  }
  protected override _toValue(val: unknown): unknown {
    return Date.parse(String(val)) / 86_400_000;
  }
}

/** Avro decimal (two's complement big-endian bytes, scale from the schema) → exact decimal text. */
class DecimalBytes extends avro.types.LogicalType {
  private readonly scale: number;
  constructor(schema: avro.Schema, opts?: object) {
    super(schema, opts);
    this.scale = (schema as { scale?: number }).scale ?? 0;
  }
  protected override _fromValue(val: unknown): unknown {
    const bytes = val as Buffer;
    let n = 0n;
    for (const b of bytes) n = (n << 8n) | BigInt(b);
    if (bytes.length > 0 && (bytes[0] as number) & 0x80) n -= 1n << BigInt(bytes.length * 8);
    const negative = n < 0n;
    const digits = (negative ? -n : n).toString().padStart(this.scale + 1, "0");
    const text = this.scale === 0 ? digits : `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    return negative ? `-${text}` : text;
  }
  protected override _toValue(val: unknown): unknown {
    return val;
  }
}

const logicalTypes = {
  "timestamp-millis": TimestampMillis,
  "timestamp-micros": TimestampMicros,
  date: DateDays,
  decimal: DecimalBytes,
};

/** Avro bytes/fixed arrive as Buffers; JSON carries text, so they become UTF-8 strings. */
function withoutBuffers(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (Array.isArray(value)) return value.map(withoutBuffers);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withoutBuffers(v);
    return out;
  }
  return value;
}

interface CompiledSchema {
  readonly type: avro.Type;
  readonly hasBytes: boolean;
}

/**
 * AvroConfluent: magic byte 0, a 4-byte schema id, then the Avro binary body. Schemas are
 * fetched from the registry by id (before the records are decoded, so decoding stays
 * synchronous) and cached for the life of the process, as ids are immutable.
 */
export class AvroConfluentDecoder {
  private readonly schemas = new Map<number, CompiledSchema | RecordError>();

  constructor(private readonly opts: SchemaRegistryOptions) {}

  /** Fetch the schemas these records name that are not cached yet; waits out a registry outage. */
  async prepare(records: readonly RawRecord[]): Promise<void> {
    const missing = new Set<number>();
    for (const r of records) {
      const v = r.value;
      if (v !== null && v.length >= 5 && v[0] === 0) {
        const id = v.readInt32BE(1);
        if (!this.schemas.has(id)) missing.add(id);
      }
    }
    for (const id of missing) this.schemas.set(id, await retry(() => this.fetchSchema(id), this.opts.retry));
  }

  decode(bytes: Buffer | null): DecodedRecord {
    if (bytes === null || bytes.length < 5 || bytes[0] !== 0) {
      throw new RecordError(ErrorType.decode, "not AvroConfluent: expected magic byte 0 and a 4-byte schema id");
    }
    const id = bytes.readInt32BE(1);
    const schema = this.schemas.get(id);
    if (schema === undefined) throw new RecordError(ErrorType.decode, `schema id ${id} was not fetched from the registry`);
    if (schema instanceof RecordError) throw schema;
    let value: unknown;
    try {
      value = schema.type.fromBuffer(bytes.subarray(5));
    } catch (err) {
      throw new RecordError(ErrorType.decode, `Avro body does not match schema id ${id}: ${errorMessage(err)}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new RecordError(ErrorType.decode, `schema id ${id} is not an Avro record; ClickPipes maps record fields to columns`);
    }
    return (schema.hasBytes ? withoutBuffers(value) : { ...value }) as DecodedRecord;
  }

  private async fetchSchema(id: number): Promise<CompiledSchema | RecordError> {
    const headers: Record<string, string> = { accept: "application/vnd.schemaregistry.v1+json, application/json" };
    if (this.opts.username !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ""}`).toString("base64")}`;
    }
    const url = `${this.opts.url.replace(/\/+$/, "")}/schemas/ids/${id}`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new SourceError(`schema registry ${url} unreachable: ${errorMessage(err)}`, { retriable: true, cause: err });
    }
    if (response.status === 404) return new RecordError(ErrorType.decode, `schema id ${id} is not in the registry (${url})`);
    if (!response.ok) {
      throw new SourceError(`schema registry ${url} answered ${response.status}`, { retriable: response.status >= 500 || response.status === 429 });
    }
    const body = (await response.json()) as { schema?: string; schemaType?: string };
    if (body.schemaType !== undefined && body.schemaType !== "AVRO") return new RecordError(ErrorType.decode, `schema id ${id} is ${body.schemaType}, not AVRO`);
    const text = body.schema ?? "";
    return { type: avro.Type.forSchema(JSON.parse(text) as avro.Schema, { logicalTypes, wrapUnions: "auto" }), hasBytes: /"(bytes|fixed)"/.test(text) };
  }
}
