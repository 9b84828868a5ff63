import { z } from "zod";
import { BYTE_SIZE_ACCEPTED, BYTE_SIZE_PATTERN, DURATION_ACCEPTED, DURATION_PATTERN } from "./units.js";

/**
 * Building blocks shared by the source, destination and spec schemas. Patterns are strings
 * (not RegExp literals) because the CRD reuses them and the apiserver compiles them with RE2.
 */

export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
export const HOSTNAME_PATTERN = "^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\])$";
export const HTTP_URL_PATTERN = "^https?://[^\\s/?#]+([/?#][^\\s]*)?$";
export const IDENTIFIER_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";
export const IAM_ROLE_PATTERN = "^arn:aws[a-z-]*:iam::[0-9]{12}:role/[^\\s]+$";

export function pattern(source: string, accepted: string): z.ZodString {
  return z.string().regex(new RegExp(source), { error: accepted });
}

export function nonEmptyString(maxLength = 253): z.ZodString {
  return z.string().min(1).max(maxLength);
}

export const DurationSchema = pattern(DURATION_PATTERN, DURATION_ACCEPTED);

/** Byte sizes are written either as a plain integer count of bytes or as a string with a unit. */
export const ByteSizeSchema = z.union([z.int().min(0), pattern(BYTE_SIZE_PATTERN, BYTE_SIZE_ACCEPTED)], {
  error: BYTE_SIZE_ACCEPTED,
});

export const TimestampSchema = z.iso.datetime({ offset: true, error: "an RFC 3339 timestamp such as 2024-05-01T00:00:00Z" });

const SecretNameSchema = pattern(DNS_SUBDOMAIN_PATTERN, "a Secret name: lowercase letters, digits, '-' and '.'")
  .max(253)
  .describe("Name of a Secret in the ClickPipe's namespace.");

/** A Secret that holds several well-known keys (for example `username` and `password`). */
export function secretRef(holds: string): z.ZodObject<{ name: typeof SecretNameSchema }, z.core.$strict> {
  return z.strictObject({ name: SecretNameSchema }).describe(`Reference to a Secret holding ${holds}.`);
}

/** A Secret key holding one value (a certificate), with the key defaulting to its usual name. */
export function secretKeyRef(
  holds: string,
  defaultKey: string,
): z.ZodObject<{ name: typeof SecretNameSchema; key: z.ZodDefault<z.ZodString> }, z.core.$strict> {
  return z
    .strictObject({
      name: SecretNameSchema,
      key: nonEmptyString()
        .default(defaultKey)
        .describe(`Key of the Secret that holds ${holds}. Default: ${defaultKey}.`),
    })
    .describe(`Reference to a Secret key holding ${holds}.`);
}

/** The Secret key names the product reads; they are part of the API. */
export const SecretKeys = {
  username: "username",
  password: "password",
  caCertificate: "ca.crt",
  tlsCertificate: "tls.crt",
  tlsKey: "tls.key",
  accessKeyId: "accessKeyId",
  secretAccessKey: "secretAccessKey",
  serviceAccountKey: "serviceAccountKey",
  connectionString: "connectionString",
  serviceAccountFile: "serviceAccountFile",
} as const;

/** CEL: the enum-valued optional field `field` is one of `values`. */
export function celIn(field: string, values: readonly string[]): string {
  const list = values.map((v) => `'${v}'`).join(", ");
  return `has(self.${field}) && self.${field} in [${list}]`;
}

/** Splits a comma-separated ClickPipes list field ("b1:9092, b2:9092") into its entries. */
export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}
