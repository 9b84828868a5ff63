/**
 * AWS credentials shared by the plugins that talk to AWS (Kinesis, object storage, SQS).
 * The STS SDK loads only when a role is first assumed: the registry imports every plugin,
 * and a top-level `@aws-sdk/client-sts` import made every consumer (Kafka included) pay
 * about 100 ms and several MiB for it at start-up.
 */
import type { STSClient } from "@aws-sdk/client-sts";
import { SourceError, errorMessage } from "../ingest/errors.js";
import { loadOnce } from "./lazy.js";

/** AWS credentials as the SDK takes them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** An STS client, or a function that makes one on first use. */
export type StsSource = Pick<STSClient, "send"> | (() => Promise<Pick<STSClient, "send">>);

/** An STS client for `region`, with its SDK loaded when first asked for. */
export function lazySts(region: string): () => Promise<Pick<STSClient, "send">> {
  return async () => new (await import("@aws-sdk/client-sts")).STSClient({ region });
}

/** Role session names allow [\w+=,.@-]{2,64}. */
export function roleSessionName(pipe: string): string {
  return `clickpipes-${pipe}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}

/** A credentials provider that assumes `roleArn` (STS refreshes are the SDK's: it memoizes until `expiration`). */
export function assumeRoleCredentials(auth: { readonly roleArn: string; readonly sessionName: string }, sts: StsSource): () => Promise<AwsCredentials> {
  const client = loadOnce(async () => (typeof sts === "function" ? sts() : sts));
  return async () => {
    let out;
    try {
      const { AssumeRoleCommand } = await import("@aws-sdk/client-sts");
      out = await (await client.get()).send(new AssumeRoleCommand({ RoleArn: auth.roleArn, RoleSessionName: auth.sessionName, DurationSeconds: 3600 }));
    } catch (err) {
      throw new SourceError(`cannot assume IAM role ${auth.roleArn}: ${errorMessage(err)}`, { retriable: true, cause: err, context: { roleArn: auth.roleArn } });
    }
    const c = out.Credentials;
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined) {
      throw new SourceError(`STS returned no credentials for role ${auth.roleArn}`, { retriable: true, context: { roleArn: auth.roleArn } });
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
  };
}
