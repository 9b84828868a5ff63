import { z } from "zod";
import { kubernetesExtensionsOf } from "./rules.js";

/**
 * Converts zod's JSON Schema (draft 2020-12) into the structural OpenAPI v3 subset that
 * kube-apiserver accepts for a CRD: every node typed, no $ref, no unions at the type level,
 * no `additionalProperties: false` next to `properties` (the apiserver prunes unknown fields,
 * and `kubectl apply` rejects them with its default strict field validation).
 */

export type OpenApiSchema = { [key: string]: unknown };

export class StructuralSchemaError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`cannot express ${path || "<root>"} in a structural schema: ${detail}`);
    this.name = "StructuralSchemaError";
  }
}

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;
/** Formats the apiserver validates; zod's others (regex, uri, ...) are left to `pattern`. */
const KEPT_FORMATS = new Set(["date-time", "int64", "int32"]);

function isObject(value: unknown): value is OpenApiSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function intOrString(): OpenApiSchema {
  return { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] };
}

function isIntOrString(types: ReadonlySet<unknown>): boolean {
  return types.size === 2 && types.has("string") && (types.has("integer") || types.has("number"));
}

/**
 * Integer-or-string fields (byte sizes, quantities) take the form controller-gen emits for
 * resource.Quantity: int-or-string with the string pattern at the node, which the apiserver
 * applies to strings only.
 */
function convertType(node: OpenApiSchema, out: OpenApiSchema, path: string): void {
  const type = node["type"];
  const options = node["anyOf"] ?? node["oneOf"];
  if (Array.isArray(options)) {
    const types = new Set(options.map((option) => (isObject(option) ? option["type"] : undefined)));
    if (!isIntOrString(types)) throw new StructuralSchemaError(path, "anyOf/oneOf other than integer-or-string");
    Object.assign(out, intOrString());
    const stringOption = options.find((option) => isObject(option) && option["type"] === "string") as OpenApiSchema;
    if (typeof stringOption["pattern"] === "string") out["pattern"] = stringOption["pattern"];
    return;
  }
  if (Array.isArray(type)) {
    if (!isIntOrString(new Set(type))) throw new StructuralSchemaError(path, `union of types ${type.join(", ")}`);
    Object.assign(out, intOrString());
    return;
  }
  if (typeof type !== "string") throw new StructuralSchemaError(path, "node without a type");
  out["type"] = type;
}

function copyValidations(node: OpenApiSchema, out: OpenApiSchema): void {
  for (const key of ["description", "enum", "default", "pattern", "minLength", "maxLength", "minItems", "maxItems"]) {
    if (node[key] !== undefined) out[key] = node[key];
  }
  if (typeof node["const"] !== "undefined") out["enum"] = [node["const"]];
  if (typeof node["format"] === "string" && KEPT_FORMATS.has(node["format"])) {
    out["format"] = node["format"];
    // The apiserver validates date-time itself; zod's long RFC 3339 regex adds nothing.
    if (node["format"] === "date-time") delete out["pattern"];
  }
  for (const key of ["minimum", "maximum"]) {
    const bound = node[key];
    if (typeof bound === "number" && Math.abs(bound) < SAFE_INTEGER_BOUND) out[key] = bound;
  }
  for (const [key, inclusiveKey] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    const bound = node[key];
    if (typeof bound === "number") {
      out[inclusiveKey] = bound;
      out[key] = true;
    }
  }
}

function convertChildren(node: OpenApiSchema, out: OpenApiSchema, path: string): void {
  const properties = node["properties"];
  if (isObject(properties)) {
    out["properties"] = Object.fromEntries(
      Object.entries(properties).map(([key, child]) => [key, toStructural(child, `${path}.${key}`)]),
    );
    const required = node["required"];
    if (Array.isArray(required) && required.length > 0) out["required"] = required;
  } else if (isObject(node["additionalProperties"])) {
    out["additionalProperties"] = toStructural(node["additionalProperties"], `${path}.*`);
  }
  if (node["items"] !== undefined) out["items"] = toStructural(node["items"], `${path}[]`);
}

/**
 * Fills an object default with its fields' own defaults. The apiserver checks a default
 * against the node's CEL rules as written, before nested defaulting, so `offset: {}` would
 * fail a rule that reads `self.strategy`; the expanded `{strategy: from_beginning}` does not.
 */
function expandDefault(value: unknown, node: OpenApiSchema): unknown {
  if (!isObject(value) || !isObject(node["properties"])) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [key, child] of Object.entries(node["properties"])) {
    if (!isObject(child)) continue;
    if (out[key] === undefined && child["default"] !== undefined) out[key] = structuredClone(child["default"]);
    if (out[key] !== undefined) out[key] = expandDefault(out[key], child);
  }
  return out;
}

/** Converts one JSON Schema node (and its children) into structural OpenAPI v3. */
export function toStructural(node: unknown, path = ""): OpenApiSchema {
  if (!isObject(node)) throw new StructuralSchemaError(path, "not a schema object");
  if (node["$ref"] !== undefined) throw new StructuralSchemaError(path, "$ref");
  const out: OpenApiSchema = {};
  convertType(node, out, path);
  copyValidations(node, out);
  convertChildren(node, out, path);
  if (out["default"] !== undefined) out["default"] = expandDefault(out["default"], out);
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-kubernetes-")) out[key] = value;
  }
  return out;
}

/** zod → JSON Schema in input form (defaults make fields optional), with Kubernetes extensions. */
export function jsonSchemaOf(schema: z.ZodType): OpenApiSchema {
  return z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "throw",
    override: (ctx) => {
      const extensions = kubernetesExtensionsOf(ctx.zodSchema);
      if (extensions !== undefined) Object.assign(ctx.jsonSchema, extensions);
    },
  });
}

/** The structural OpenAPI v3 schema of a zod schema. */
export function structuralSchemaOf(schema: z.ZodType): OpenApiSchema {
  return toStructural(jsonSchemaOf(schema));
}
