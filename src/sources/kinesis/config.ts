import type { KinesisClientConfig } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SecretKeys, type KinesisSource } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import { assumeRoleCredentials, lazySts } from "../aws-credentials.js";
import type { InitialIterator } from "./shards.js";

/**
 * How the consumer authenticates, decided from the spec alone (unit-tested: real IAM cannot
 * be exercised here). IAM_USER: the access key in the Secret. IAM_ROLE: assume `iamRole`
 * with the pod's own identity (the SDK's default chain: env, IRSA web identity, EKS Pod
 * Identity, instance profile).
 */
export type KinesisAuth =
  | { readonly kind: "accessKey"; readonly accessKeyId: string; readonly secretAccessKey: string }
  | { readonly kind: "assumeRole"; readonly roleArn: string; readonly sessionName: string };

export function kinesisAuth(spec: KinesisSource, secrets: SecretResolver, sessionName: string): KinesisAuth {
  if (spec.authentication === "IAM_ROLE") {
    if (spec.iamRole === undefined) throw new ConfigError("spec.source.kinesis.iamRole is required for authentication IAM_ROLE");
    return { kind: "assumeRole", roleArn: spec.iamRole, sessionName };
  }
  const ref = spec.credentialsSecretRef;
  if (ref === undefined) throw new ConfigError("spec.source.kinesis.credentialsSecretRef is required for authentication IAM_USER (a Secret with accessKeyId and secretAccessKey)");
  return { kind: "accessKey", accessKeyId: secrets.get(ref.name, SecretKeys.accessKeyId).trim(), secretAccessKey: secrets.get(ref.name, SecretKeys.secretAccessKey).trim() };
}

/**
 * The KinesisClient configuration of a pipe. The polling API (ListShards, GetRecords) is
 * plain JSON over HTTP/1.1, which every endpoint speaks; the SDK's default HTTP/2 handler
 * exists for SubscribeToShard and is refused by emulators such as kinesalite.
 */
export function kinesisClientConfig(spec: KinesisSource, auth: KinesisAuth, timeoutMs = 30_000): KinesisClientConfig {
  const credentials =
    auth.kind === "accessKey"
      ? { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey }
      : assumeRoleCredentials(auth, lazySts(spec.region));
  return {
    region: spec.region,
    ...(spec.endpoint === undefined ? {} : { endpoint: spec.endpoint }),
    credentials,
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ connectionTimeout: Math.min(timeoutMs, 10_000), requestTimeout: timeoutMs }),
  };
}

/**
 * The client for enhanced fan-out: SubscribeToShard streams events over HTTP/2 (the SDK's
 * default handler) for up to 5 minutes, so no request timeout applies to it.
 */
export function kinesisFanOutClientConfig(spec: KinesisSource, auth: KinesisAuth): KinesisClientConfig {
  const { requestHandler: _http1, ...rest } = kinesisClientConfig(spec, auth);
  return rest;
}

/** The spec's iteratorType as the start of shards the pipe has never read. */
export function initialIterator(spec: KinesisSource): InitialIterator {
  if (spec.iteratorType !== "AT_TIMESTAMP") return { type: spec.iteratorType };
  const at = Date.parse(spec.timestamp ?? "");
  if (Number.isNaN(at)) throw new ConfigError(`spec.source.kinesis.timestamp: "${spec.timestamp ?? ""}" is not an RFC 3339 time (required for AT_TIMESTAMP)`);
  return { type: "AT_TIMESTAMP", timestamp: new Date(at) };
}
