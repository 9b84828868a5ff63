import protobuf from "protobufjs";
import { ErrorType, RecordError, errorMessage } from "../errors.js";
import type { RetryOptions } from "../retry.js";
import type { RawRecord } from "../source.js";
import { SchemaCache, confluentSchemaId } from "./avro-confluent.js";
import type { DecodedRecord } from "./json.js";
import { type ProtoFile, compileProto, messageAt, messageNamed, messageRecord } from "./protobuf-schema.js";
import { type RegistrySchema, SchemaRegistryClient, type SchemaRegistryOptions } from "./registry-client.js";

function decodeMessage(type: protobuf.Type, body: Uint8Array, label: string): DecodedRecord {
  let message: protobuf.Message;
  try {
    message = type.decode(body);
  } catch (err) {
    throw new RecordError(ErrorType.dataParsing, `Protobuf body does not decode as ${label}: ${errorMessage(err)}`);
  }
  return messageRecord(type, message as unknown as Record<string, unknown>);
}

/** Confluent's message indexes after the schema id: a zigzag varint count, then that many zigzag varints; a lone 0 means [0]. */
export function readMessageIndexes(bytes: Buffer): { indexes: number[]; offset: number } {
  const reader = protobuf.Reader.create(bytes.subarray(5));
  const count = reader.sint32();
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) indexes.push(reader.sint32());
  return { indexes, offset: 5 + reader.pos };
}

/** Protobuf with one message type given in the manifest; each Kafka message is one bare message. */
export class ProtobufDecoder {
  private readonly type: protobuf.Type;

  constructor(schema: string, messageType: string) {
    this.type = messageNamed(compileProto(schema), messageType);
  }

  decode(bytes: Buffer | null): DecodedRecord {
    return decodeMessage(this.type, bytes ?? Buffer.alloc(0), this.type.fullName.slice(1));
  }
}

/**
 * Protobuf in Confluent's wire format: magic byte 0, the schema id, the message indexes,
 * then the message; the .proto comes from the registry by id, once per id.
 */
export class ProtobufConfluentDecoder {
  private readonly cache: SchemaCache<ProtoFile>;

  constructor(opts: SchemaRegistryOptions & { readonly retry?: RetryOptions }) {
    this.cache = new SchemaCache(new SchemaRegistryClient(opts), compileRegistryProto, opts.retry);
  }

  prepare(records: readonly RawRecord[]): Promise<void> {
    return this.cache.prepare(records);
  }

  decode(bytes: Buffer | null): DecodedRecord {
    const id = confluentSchemaId(bytes);
    if (id === undefined || bytes === null) throw new RecordError(ErrorType.dataParsing, "not Confluent Protobuf: expected magic byte 0 and a 4-byte schema id");
    const file = this.cache.get(id);
    if (file === undefined) throw new RecordError(ErrorType.sourceSchema, `schema id ${id} was not fetched from the registry`);
    if (file instanceof RecordError) throw file;
    let framing: { indexes: number[]; offset: number };
    try {
      framing = readMessageIndexes(bytes);
    } catch (err) {
      throw new RecordError(ErrorType.dataParsing, `bad Protobuf message indexes after schema id ${id}: ${errorMessage(err)}`);
    }
    const type = messageAt(file, framing.indexes);
    if (type === undefined) throw new RecordError(ErrorType.sourceSchema, `schema id ${id} has no message at indexes [${framing.indexes.join(", ")}]`);
    return decodeMessage(type, bytes.subarray(framing.offset), `${type.fullName.slice(1)} (schema id ${id})`);
  }
}

function compileRegistryProto(entry: RegistrySchema): ProtoFile | RecordError {
  if (entry.schemaType !== "PROTOBUF") return new RecordError(ErrorType.sourceSchema, `schema id ${entry.id} is ${entry.schemaType}, not PROTOBUF`);
  try {
    return compileProto(entry.schema, entry.imports);
  } catch (err) {
    return new RecordError(ErrorType.sourceSchema, `schema id ${entry.id} is not a usable .proto: ${errorMessage(err)}`);
  }
}
