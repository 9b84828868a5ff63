import { ClickPipeSpecSchema } from "./spec.js";
import { ClickPipeStatusSchema } from "./status.js";
import { type OpenApiSchema, structuralSchemaOf } from "./structural.js";
import type { CelValidation } from "./rules.js";

/**
 * docs/reference.md, generated from the same structural schema as the CRD, so the reference
 * says exactly what `kubectl explain` and the apiserver say.
 */

interface Row {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly node: OpenApiSchema;
}

function typeOf(node: OpenApiSchema): string {
  if (node["x-kubernetes-int-or-string"] === true) return "integer or string";
  const type = String(node["type"]);
  if (type === "array") {
    const items = node["items"] as OpenApiSchema;
    return `list of ${typeOf(items)}`;
  }
  return type;
}

const CONSTRAINT_LABELS: readonly (readonly [string, (value: string) => string])[] = [
  ["minimum", (v) => `min ${v}`],
  ["maximum", (v) => `max ${v}`],
  ["minItems", (v) => `at least ${v} items`],
  ["maxItems", (v) => `at most ${v} items`],
  ["maxLength", (v) => `at most ${v} characters`],
  ["pattern", (v) => `pattern \`${v}\``],
  ["format", (v) => `format ${v}`],
];

function constraints(node: OpenApiSchema): string[] {
  const out: string[] = [];
  if (Array.isArray(node["enum"])) out.push(`one of: ${node["enum"].map((v) => `\`${String(v)}\``).join(", ")}`);
  for (const [key, label] of CONSTRAINT_LABELS) {
    const value = node[key];
    if (typeof value === "string" || typeof value === "number") out.push(label(String(value)));
  }
  const keys = node["x-kubernetes-list-map-keys"];
  if (Array.isArray(keys)) out.push(`unique by ${keys.join(", ")}`);
  return out;
}

function collectRows(node: OpenApiSchema, path: string, required: boolean, rows: Row[]): void {
  rows.push({ path, type: typeOf(node), required, node });
  const properties = node["properties"] as Record<string, OpenApiSchema> | undefined;
  const target = node["type"] === "array" ? (node["items"] as OpenApiSchema) : node;
  const childProperties = (target["properties"] as Record<string, OpenApiSchema> | undefined) ?? properties;
  if (childProperties === undefined) return;
  const requiredKeys = new Set((target["required"] as string[] | undefined) ?? []);
  const prefix = node["type"] === "array" ? `${path}[]` : path;
  for (const [key, child] of Object.entries(childProperties)) {
    collectRows(child, `${prefix}.${key}`, requiredKeys.has(key), rows);
  }
}

const escapeCell = (text: string): string => text.replaceAll("|", "\\|").replaceAll("\n", " ");

function rowMarkdown(row: Row): string {
  const description = typeof row.node["description"] === "string" ? row.node["description"] : "";
  const defaultValue = row.node["default"] === undefined ? "" : `\`${JSON.stringify(row.node["default"])}\``;
  const details = [description, ...constraints(row.node).map((c) => `${c}.`)].filter((s) => s !== "").join(" ");
  return `| \`${row.path}\` | ${row.type} | ${row.required ? "yes" : ""} | ${defaultValue} | ${escapeCell(details)} |`;
}

function rulesMarkdown(rows: readonly Row[]): string[] {
  return rows.flatMap((row) => {
    const rules = row.node["x-kubernetes-validations"] as CelValidation[] | undefined;
    return (rules ?? []).map((rule) => `| \`${row.path}\` | ${escapeCell(rule.message)} | \`${escapeCell(rule.rule)}\` |`);
  });
}

function section(title: string, root: string, schema: OpenApiSchema): string[] {
  const rows: Row[] = [];
  collectRows(schema, root, true, rows);
  const rules = rulesMarkdown(rows);
  return [
    `## ${title}`,
    "",
    "| Field | Type | Required | Default | Description |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(rowMarkdown),
    "",
    ...(rules.length === 0
      ? []
      : [
          `### Cross-field rules (${title})`,
          "",
          "Checked by the apiserver (CEL) and by `clickpipes validate` alike.",
          "",
          "| On | Rule | CEL |",
          "| --- | --- | --- |",
          ...rules,
          "",
        ]),
  ];
}

/** The whole reference page as Markdown. */
export function referenceMarkdown(): string {
  return [
    "# ClickPipe API reference (clickpipes.io/v1alpha1)",
    "",
    "<!-- Generated from src/api by `npx tsx scripts/gen-reference.ts`. Do not edit. -->",
    "",
    "Credentials never appear in a ClickPipe: every secret is a reference to a Secret in the",
    "pipe's namespace (`credentialsSecretRef`, `caCertificateSecretRef`, ...). Unknown fields are",
    "rejected (`kubectl apply` uses strict field validation; `clickpipes validate` names the field).",
    "Durations are written like `500ms`, `5s`, `1m30s`; byte sizes as integers or like `20MiB`, `1GB`.",
    "",
    ...section("spec", "spec", structuralSchemaOf(ClickPipeSpecSchema)),
    ...section("status", "status", structuralSchemaOf(ClickPipeStatusSchema)),
  ].join("\n");
}
