/**
 * The ClickPipe API: one zod schema is the source of truth for the TypeScript types, manifest
 * validation and the CRD. Import API types and helpers from here only.
 */
export * from "./clickpipe.js";
export * from "./common.js";
export * from "./conditions.js";
export * from "./databases.js";
export * from "./destination.js";
export * from "./kafka.js";
export * from "./kinesis.js";
export * from "./object-storage.js";
export * from "./problems.js";
export * from "./secrets.js";
export * from "./spec.js";
export * from "./status.js";
export * from "./units.js";

import type { z } from "zod";
import type { secretRef, secretKeyRef } from "./common.js";

/** A reference to a Secret, and for single-value references the key (default per field). */
export interface SecretRef {
  name: string;
  key?: string;
}
export type CredentialsSecretRef = z.output<ReturnType<typeof secretRef>>;
export type SecretKeyRef = z.output<ReturnType<typeof secretKeyRef>>;
