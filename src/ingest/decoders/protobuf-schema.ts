import protobuf from "protobufjs";
import { ConfigError, errorMessage } from "../errors.js";

/**
 * A .proto file compiled with protobufjs, and the turn from decoded messages into the
 * decoded record the mapper coerces: nested messages to objects (Tuple columns, or dotted
 * field mappings), repeated to arrays, maps to objects, enums to their names, 64-bit
 * integers to numbers while exact (else decimal text), bytes to text, and the well-known
 * types to what ClickHouse reads: Timestamp to ISO text with nanoseconds, wrappers to their
 * value or null (Nullable columns). An unset oneof member is absent (the column's zero value).
 */

export interface ProtoFile {
  readonly root: protobuf.Root;
  /** Top-level message types in declaration order, as Confluent's message indexes count them. */
  readonly messages: readonly protobuf.Type[];
}

/**
 * Parse a .proto text. Imports are resolved from `imports` (the registry's schema references,
 * by import name) or, for Google's well-known types, from protobufjs' copies.
 */
export function compileProto(text: string, imports: Readonly<Record<string, string>> = {}): ProtoFile {
  const parsed = protobuf.parse(text, { keepCase: true });
  const root = parsed.root;
  const ns = parsed.package === undefined ? root : root.lookup(parsed.package);
  // The file's own messages, before imported files (which may share its package) add theirs.
  const messages = (ns instanceof protobuf.Namespace ? ns.nestedArray : []).filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  const pending = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
  const done = new Set<string>();
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (done.has(name)) continue;
    done.add(name);
    const referenced = imports[name];
    if (referenced !== undefined) {
      const child = protobuf.parse(referenced, root, { keepCase: true });
      pending.push(...(child.imports ?? []), ...(child.weakImports ?? []));
      continue;
    }
    const common = protobuf.common.get(name);
    if (common === null) throw new ConfigError(`.proto import ${name} is neither a schema reference nor a Google well-known type`);
    root.addJSON(common.nested ?? {});
  }
  root.resolveAll();
  return { root, messages };
}

/** The message type a list of Confluent message indexes names (each an index into the nested messages). */
export function messageAt(file: ProtoFile, indexes: readonly number[]): protobuf.Type | undefined {
  let candidates: readonly protobuf.Type[] = file.messages;
  let type: protobuf.Type | undefined;
  for (const i of indexes.length === 0 ? [0] : indexes) {
    type = candidates[i];
    if (type === undefined) return undefined;
    candidates = type.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  }
  return type;
}

/** A message type by (fully qualified or package-relative) name. */
export function messageNamed(file: ProtoFile, name: string): protobuf.Type {
  try {
    return file.root.lookupType(name);
  } catch (err) {
    throw new ConfigError(`the .proto schema has no message ${name}: ${errorMessage(err)}`);
  }
}

interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
  toString(): string;
}

function isLong(v: unknown): v is LongLike {
  return typeof v === "object" && v !== null && "low" in v && "high" in v && "unsigned" in v;
}

function scalar(v: unknown): unknown {
  if (isLong(v)) {
    const text = v.toString();
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("utf8");
  return v;
}

function timestampText(v: Record<string, unknown>): string {
  const seconds = Number(scalar(v.seconds ?? 0));
  const nanos = Number(v.nanos ?? 0);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(nanos).padStart(9, "0")}Z`;
}

const WRAPPERS = new Set(["DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value", "BoolValue", "StringValue", "BytesValue"].map((n) => `.google.protobuf.${n}`));

function value(field: protobuf.Field, v: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return typeof v === "number" ? (resolved.valuesById[v] ?? v) : v;
  if (resolved instanceof protobuf.Type) {
    if (v === null || v === undefined) return null;
    const message = v as Record<string, unknown>;
    if (resolved.fullName === ".google.protobuf.Timestamp") return timestampText(message);
    if (WRAPPERS.has(resolved.fullName)) return scalar(message.value ?? resolved.fields.value?.defaultValue);
    return messageRecord(resolved, message);
  }
  return scalar(v);
}

/** A decoded message → plain fields, recursively (see the module comment). */
export function messageRecord(type: protobuf.Type, message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const present = Object.prototype.hasOwnProperty.call(message, field.name);
    if (field.partOf !== null && !present) continue;
    const v = message[field.name];
    if (field.map) {
      const entries: Record<string, unknown> = {};
      for (const [k, item] of Object.entries((v ?? {}) as Record<string, unknown>)) entries[k] = value(field, item);
      out[field.name] = entries;
    } else if (field.repeated) {
      out[field.name] = ((v ?? []) as unknown[]).map((item) => value(field, item));
    } else {
      out[field.name] = value(field, v === undefined ? field.defaultValue : v);
    }
  }
  return out;
}
