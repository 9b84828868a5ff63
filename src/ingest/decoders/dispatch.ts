import { ConfigError } from "../errors.js";
import { type FrameFormat, avroConfluentFrames } from "../frame-passthrough.js";
import type { RetryOptions } from "../retry.js";
import type { RawRecord } from "../source.js";
import type { Decoder } from "../table-batch.js";
import { DELIMITED_FORMATS, type DelimitedFormat } from "./delimited-formats.js";
import { decodeJsonObject } from "./json.js";

/** Format settings a plugin passes from its spec (see RecordFormat.options). */
export interface FormatOptions {
  /** Avro: the writer schema, JSON text. */
  readonly avroSchema?: string;
  /** Protobuf without a registry: the .proto text and the message type of every record. */
  readonly protobufSchema?: string;
  readonly protobufMessageType?: string;
  /** CSV / TabSeparated: field names by position. */
  readonly columns?: readonly string[];
  /** CSV: field delimiter. */
  readonly delimiter?: string;
  /** AvroConfluent: who decodes the frames, ClickHouse where it applies (default; frame-passthrough.ts) or the consumer. */
  readonly avroDecoding?: "consumer" | "clickhouse";
}

export interface FormatSpec {
  readonly format: string;
  readonly schemaRegistry?: { readonly url: string; readonly username?: string; readonly password?: string };
  readonly options?: FormatOptions;
}

export interface Decoding {
  readonly decode: Decoder;
  /** Runs before a fetch's records are decoded: fetches the schemas they name. */
  readonly prepare?: (records: readonly RawRecord[]) => Promise<void>;
  /** JSON records may go to ClickHouse as their own bytes. */
  readonly passthrough: boolean;
  /** Passed-through records are frames ClickHouse decodes in this format (not JSON lines). */
  readonly frames?: FrameFormat;
}

export interface DecodingContext {
  /** The destination's columns in order: CSV/TabSeparated fields by position default to them. */
  readonly columns: readonly string[];
  /** How schema fetches wait out an unreachable registry. */
  readonly retry: RetryOptions;
}

function required(value: string | undefined, what: string, format: string): string {
  if (value === undefined || value === "") throw new ConfigError(`format ${format} needs ${what}`);
  return value;
}

/**
 * The decoder for a pipe's record format: one place decides, for every source. Decoders
 * other than JSON load their libraries here, on first use: Avro and Protobuf cost a
 * JSON consumer ~100 ms of start-up otherwise.
 */
export async function createDecoding(spec: FormatSpec, ctx: DecodingContext): Promise<Decoding> {
  const { format, schemaRegistry, options } = spec;
  if (format === "AvroConfluent" && schemaRegistry !== undefined) {
    const { AvroConfluentDecoder } = await import("./avro-confluent.js");
    const avro = new AvroConfluentDecoder({ ...schemaRegistry, retry: ctx.retry });
    const decoding = { decode: (bytes: Buffer | null) => avro.decode(bytes), prepare: (records: readonly RawRecord[]) => avro.prepare(records) };
    // The consumer still fetches each id first, so frames whose id the registry lacks become error rows here.
    const frames = options?.avroDecoding !== "consumer" ? avroConfluentFrames(schemaRegistry, (bytes) => avro.framed(bytes)) : undefined;
    return frames === undefined ? { ...decoding, passthrough: false } : { ...decoding, passthrough: true, frames };
  }
  if (format === "Protobuf" && schemaRegistry !== undefined) {
    const { ProtobufConfluentDecoder } = await import("./protobuf.js");
    const proto = new ProtobufConfluentDecoder({ ...schemaRegistry, retry: ctx.retry });
    return { decode: (bytes) => proto.decode(bytes), prepare: (records) => proto.prepare(records), passthrough: false };
  }
  // Without options the source hands over JSON objects, whatever its format is called (object storage's CSV).
  if (options === undefined) return { decode: decodeJsonObject, passthrough: true };
  if (format === "Protobuf") {
    const { ProtobufDecoder } = await import("./protobuf.js");
    const proto = new ProtobufDecoder(required(options.protobufSchema, "protobufSchema", format), required(options.protobufMessageType, "protobufMessageType", format));
    return { decode: (bytes) => proto.decode(bytes), passthrough: false };
  }
  if (format === "Avro") {
    const { avroSchema, decodeAvroBody } = await import("./avro-confluent.js");
    const schema = avroSchema(required(options.avroSchema, "avroSchema", format), "the pipe's avroSchema");
    return { decode: (bytes) => decodeAvroBody(schema, bytes ?? Buffer.alloc(0)), passthrough: false };
  }
  if ((DELIMITED_FORMATS as readonly string[]).includes(format)) {
    const { DelimitedDecoder } = await import("./delimited.js");
    const delimited = new DelimitedDecoder({
      format: format as DelimitedFormat,
      columns: options.columns ?? ctx.columns,
      ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
    });
    return { decode: (bytes) => delimited.decode(bytes), passthrough: false };
  }
  return { decode: decodeJsonObject, passthrough: true };
}
