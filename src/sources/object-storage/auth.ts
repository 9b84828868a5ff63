/**
 * How the consumer (and ClickHouse, when it reads the files itself) authenticates to the
 * store, decided from the spec and its Secret alone. IAM_ROLE and the pod's default chain
 * cannot be exercised here (no AWS IAM): their configuration is unit-tested only.
 */
import { pipeId, SecretKeys, type ClickPipe, type ObjectStorageSource } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import { type AwsCredentials, assumeRoleCredentials, lazySts, roleSessionName } from "../aws-credentials.js";

export type StoreAuth =
  /** No credentials: a public bucket (requests unsigned; ClickHouse's NOSIGN). */
  | { readonly kind: "public" }
  /** Access key (S3, DigitalOcean Spaces) or GCS HMAC key. */
  | { readonly kind: "accessKey"; readonly accessKeyId: string; readonly secretAccessKey: string }
  /** Assume `roleArn` with the pod's default chain (IRSA, EKS Pod Identity, instance profile). */
  | { readonly kind: "assumeRole"; readonly roleArn: string; readonly sessionName: string }
  /** GCS service account key (the JSON, decoded from the Secret's base64). */
  | { readonly kind: "serviceAccount"; readonly key: Record<string, unknown> }
  | { readonly kind: "connectionString"; readonly connectionString: string };

function secretRef(spec: ObjectStorageSource, what: string): string {
  const ref = spec.credentialsSecretRef;
  if (ref === undefined) throw new ConfigError(`spec.source.objectStorage.credentialsSecretRef is required for authentication ${spec.authentication ?? ""} (${what})`);
  return ref.name;
}

/** The service account JSON from the Secret: base64 as the API documents it, or the JSON itself. */
export function serviceAccountKey(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  const json = trimmed.startsWith("{") ? trimmed : Buffer.from(trimmed, "base64").toString("utf8");
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new ConfigError("spec.source.objectStorage: the Secret's serviceAccountKey is neither a base64 JSON key nor JSON");
  }
}

export function storeAuth(pipe: ClickPipe, spec: ObjectStorageSource, secrets: SecretResolver): StoreAuth {
  switch (spec.authentication) {
    case undefined:
      return { kind: "public" };
    case "IAM_ROLE":
      if (spec.iamRole === undefined) throw new ConfigError("spec.source.objectStorage.iamRole is required for authentication IAM_ROLE");
      return { kind: "assumeRole", roleArn: spec.iamRole, sessionName: roleSessionName(pipeId(pipe)) };
    case "IAM_USER": {
      const name = secretRef(spec, "a Secret with accessKeyId and secretAccessKey");
      return { kind: "accessKey", accessKeyId: secrets.get(name, SecretKeys.accessKeyId).trim(), secretAccessKey: secrets.get(name, SecretKeys.secretAccessKey).trim() };
    }
    case "SERVICE_ACCOUNT":
      return { kind: "serviceAccount", key: serviceAccountKey(secrets.get(secretRef(spec, "a Secret with serviceAccountKey"), SecretKeys.serviceAccountKey)) };
    case "CONNECTION_STRING":
      return { kind: "connectionString", connectionString: secrets.get(secretRef(spec, "a Secret with connectionString"), SecretKeys.connectionString).trim() };
  }
}

/** AWS credentials for the S3 SDK and for ClickHouse's s3(): fixed keys, an assumed role, or none (public). */
export function awsCredentials(auth: StoreAuth, region: string): (() => Promise<AwsCredentials>) | undefined {
  if (auth.kind === "accessKey") return () => Promise.resolve({ accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey });
  if (auth.kind === "assumeRole") return assumeRoleCredentials({ roleArn: auth.roleArn, sessionName: auth.sessionName }, lazySts(region));
  return undefined;
}
