import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { KinesisSourceSchema } from "../../api/index.js";
import { ConfigError, SourceError } from "../../ingest/errors.js";
import { secretsFromDocuments } from "../../ingest/secrets.js";
import { assumeRoleCredentials, roleSessionName } from "../aws-credentials.js";
import { initialIterator, kinesisAuth, kinesisClientConfig } from "./config.js";

// Real IAM (access keys against AWS, STS AssumeRole, IRSA / EKS Pod Identity) cannot be
// exercised here: these tests check the configuration the SDK is given, nothing more.
const secrets = secretsFromDocuments([{ metadata: { name: "aws" }, stringData: { accessKeyId: "AKIAEXAMPLE\n", secretAccessKey: "s3cret" } }]);
const spec = (extra: Record<string, unknown>): ReturnType<typeof KinesisSourceSchema.parse> =>
  KinesisSourceSchema.parse({ streamName: "events", region: "eu-west-1", ...extra });

describe("Kinesis authentication", () => {
  it("IAM_USER reads the access key from the Secret", () => {
    expect(kinesisAuth(spec({ credentialsSecretRef: { name: "aws" } }), secrets, "s")).toEqual({ kind: "accessKey", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cret" });
  });

  it("IAM_USER without its Secret key is a ConfigError naming it", () => {
    const empty = secretsFromDocuments([{ metadata: { name: "aws" }, stringData: { accessKeyId: "a" } }]);
    expect(() => kinesisAuth(spec({ credentialsSecretRef: { name: "aws" } }), empty, "s")).toThrow(/Secret "aws" has no key "secretAccessKey"/);
  });

  it("IAM_ROLE assumes the role with the default chain's identity and a valid session name", async () => {
    const auth = kinesisAuth(spec({ authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/clickpipes" }), secrets, roleSessionName("analytics/events"));
    expect(auth).toEqual({ kind: "assumeRole", roleArn: "arn:aws:iam::123456789012:role/clickpipes", sessionName: "clickpipes-analytics-events" });
    const sent: unknown[] = [];
    const expiration = new Date(Date.now() + 3_600_000);
    const sts = {
      send: (cmd: AssumeRoleCommand): Promise<unknown> => {
        sent.push(cmd.input);
        return Promise.resolve({ Credentials: { AccessKeyId: "ASIA", SecretAccessKey: "k", SessionToken: "t", Expiration: expiration } });
      },
    };
    if (auth.kind !== "assumeRole") throw new Error("expected assumeRole");
    await expect(assumeRoleCredentials(auth, sts as never)()).resolves.toEqual({ accessKeyId: "ASIA", secretAccessKey: "k", sessionToken: "t", expiration });
    expect(sent).toEqual([{ RoleArn: "arn:aws:iam::123456789012:role/clickpipes", RoleSessionName: "clickpipes-analytics-events", DurationSeconds: 3600 }]);
  });

  it("a refused AssumeRole is a retriable SourceError naming the role", async () => {
    const sts = { send: (): Promise<unknown> => Promise.reject(new Error("AccessDenied")) };
    const provider = assumeRoleCredentials({ roleArn: "arn:aws:iam::1:role/r", sessionName: "s" }, sts);
    await expect(provider()).rejects.toBeInstanceOf(SourceError);
    await expect(provider()).rejects.toThrow(/cannot assume IAM role arn:aws:iam::1:role\/r/);
  });

  it("session names keep to AWS's alphabet and length", () => {
    expect(roleSessionName(`ns/${"x".repeat(100)}`)).toHaveLength(64);
    expect(roleSessionName("a b/c")).toBe("clickpipes-a-b-c");
  });
});

describe("Kinesis client configuration", () => {
  it("passes region and a custom endpoint, and static keys for IAM_USER", () => {
    const s = spec({ credentialsSecretRef: { name: "aws" }, endpoint: "http://127.0.0.1:4567" });
    const config = kinesisClientConfig(s, kinesisAuth(s, secrets, "x"));
    expect(config.region).toBe("eu-west-1");
    expect(config.endpoint).toBe("http://127.0.0.1:4567");
    expect(config.credentials).toEqual({ accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cret" });
  });

  it("uses the region's public endpoint without one, and a provider function for IAM_ROLE", () => {
    const s = spec({ authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/clickpipes" });
    const config = kinesisClientConfig(s, kinesisAuth(s, secrets, "x"));
    expect(config.endpoint).toBeUndefined();
    expect(typeof config.credentials).toBe("function");
  });
});

describe("initial iterator", () => {
  it("follows iteratorType and its timestamp", () => {
    expect(initialIterator(spec({ credentialsSecretRef: { name: "aws" } }))).toEqual({ type: "TRIM_HORIZON" });
    expect(initialIterator(spec({ credentialsSecretRef: { name: "aws" }, iteratorType: "LATEST" }))).toEqual({ type: "LATEST" });
    expect(initialIterator(spec({ credentialsSecretRef: { name: "aws" }, iteratorType: "AT_TIMESTAMP", timestamp: "2024-05-01T00:00:00Z" }))).toEqual({
      type: "AT_TIMESTAMP",
      timestamp: new Date("2024-05-01T00:00:00Z"),
    });
  });

  it("rejects an AT_TIMESTAMP without a parsable time", () => {
    expect(() => initialIterator({ ...spec({ credentialsSecretRef: { name: "aws" } }), iteratorType: "AT_TIMESTAMP", timestamp: "soon" })).toThrow(ConfigError);
  });
});
