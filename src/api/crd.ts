import { stringify } from "yaml";
import {
  API_GROUP,
  API_VERSION,
  KIND,
  PIPE_NAME_MAX_LENGTH,
  PIPE_NAME_PATTERN,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
} from "./clickpipe.js";
import { ClickPipeSpecSchema } from "./spec.js";
import { ClickPipeStatusSchema } from "./status.js";
import { type OpenApiSchema, structuralSchemaOf } from "./structural.js";

export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

const PRINTER_COLUMNS = [
  { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Lifecycle phase." },
  { name: "Replicas", type: "integer", jsonPath: ".status.replicas.ready", description: "Ready consumer replicas." },
  { name: "Rows", type: "integer", jsonPath: ".status.ingested.rows", description: "Rows inserted." },
  { name: "Errors", type: "integer", jsonPath: ".status.errors.records", description: "Records sent to the error table." },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
] as const;

/** The whole object's schema; metadata may only constrain name (and generateName) in a CRD. */
export function clickPipeOpenApiSchema(): OpenApiSchema {
  return {
    type: "object",
    description: "A ClickPipe streams one source into ClickHouse: Kafka and its kin, Kinesis, object storage, or a CDC database.",
    required: ["spec"],
    properties: {
      apiVersion: { type: "string", description: "APIVersion of this object: clickpipes.io/v1alpha1." },
      kind: { type: "string", description: "Kind of this object: ClickPipe." },
      metadata: {
        type: "object",
        properties: {
          name: { type: "string", maxLength: PIPE_NAME_MAX_LENGTH, pattern: PIPE_NAME_PATTERN },
        },
      },
      spec: structuralSchemaOf(ClickPipeSpecSchema),
      status: structuralSchemaOf(ClickPipeStatusSchema),
    },
  };
}

/** The CustomResourceDefinition object for the ClickPipe API. */
export function clickPipeCrd(): OpenApiSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: CRD_NAME },
    spec: {
      group: API_GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [...SHORT_NAMES] },
      scope: "Namespaced",
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: clickPipeOpenApiSchema() },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: ".spec.scaling.replicas",
              statusReplicasPath: ".status.replicas.ready",
              labelSelectorPath: ".status.selector",
            },
          },
          additionalPrinterColumns: PRINTER_COLUMNS.map((column) => ({ ...column })),
        },
      ],
    },
  };
}

const HEADER = "# Generated from src/api (zod) by `npm run crd:generate`. Do not edit.\n";

/** The CRD as the YAML file checked in under crds/. */
export function clickPipeCrdYaml(): string {
  return HEADER + stringify(clickPipeCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
