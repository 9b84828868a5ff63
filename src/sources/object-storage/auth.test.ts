import { describe, expect, it } from "vitest";
import type { ClickPipe, ObjectStorageSource } from "../../api/index.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import { awsCredentials, serviceAccountKey, storeAuth } from "./auth.js";
import { readPrivileges } from "./plugin.js";
import { S3Store, s3ClientConfig } from "./s3-store.js";

/**
 * Authentication decided from the spec and its Secret. IAM_ROLE (and the pod's default
 * chain it starts from) cannot run here (no AWS IAM): its configuration is what is tested.
 */
const pipe = { metadata: { name: "p", namespace: "ns" } } as ClickPipe;
const values: Record<string, string> = { "aws/accessKeyId": " AKIA ", "aws/secretAccessKey": "s", "gcs/serviceAccountKey": Buffer.from('{"project_id":"pr"}').toString("base64"), "az/connectionString": "cs" };
const secrets: SecretResolver = { get: (name, key) => values[`${name}/${key}`] ?? "" };
const base = { url: "s3://b/k/*.json", format: "JSONEachRow", compression: "auto", continuous: false } as const;

describe("storeAuth", () => {
  it("IAM_USER: the access key from the Secret; absent: a public bucket", () => {
    expect(storeAuth(pipe, { ...base, type: "s3", authentication: "IAM_USER", credentialsSecretRef: { name: "aws" } }, secrets)).toEqual({ kind: "accessKey", accessKeyId: "AKIA", secretAccessKey: "s" });
    expect(storeAuth(pipe, { ...base, type: "s3" }, secrets)).toEqual({ kind: "public" });
  });

  it("IAM_ROLE: assumes the role from the pod's default chain, session named after the pipe", () => {
    const source: ObjectStorageSource = { ...base, type: "s3", authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/reader" };
    expect(storeAuth(pipe, source, secrets)).toEqual({ kind: "assumeRole", roleArn: "arn:aws:iam::123456789012:role/reader", sessionName: "clickpipes-ns-p" });
    expect(typeof awsCredentials(storeAuth(pipe, source, secrets), "us-east-1")).toBe("function");
  });

  it("GCS service account key (base64 JSON) and Azure connection string", () => {
    expect(storeAuth(pipe, { ...base, type: "gcs", authentication: "SERVICE_ACCOUNT", credentialsSecretRef: { name: "gcs" } }, secrets)).toEqual({ kind: "serviceAccount", key: { project_id: "pr" } });
    expect(storeAuth(pipe, { type: "azureblobstorage", azureContainerName: "c", path: "p", format: "Avro", compression: "auto", continuous: false, authentication: "CONNECTION_STRING", credentialsSecretRef: { name: "az" } }, secrets)).toEqual({ kind: "connectionString", connectionString: "cs" });
    expect(() => serviceAccountKey("not-json")).toThrow(/serviceAccountKey/);
  });
});

describe("what ClickHouse is given", () => {
  it("a public bucket: unsigned SDK requests and s3(url, NOSIGN, ...)", async () => {
    const opts = { location: { bucket: "b", pattern: "*" }, credentials: undefined, tableFunction: "s3" as const };
    expect(s3ClientConfig(opts).signer).toBeDefined();
    const tf = await new S3Store(opts).tableFunction({ key: "a b/c.json", format: "JSONEachRow", compression: "gzip" });
    expect(tf).toEqual({ sql: "s3({url:String}, NOSIGN, 'JSONEachRow', {structure:String}, 'gzip')", params: { url: "https://b.s3.us-east-1.amazonaws.com/a%20b/c.json" } });
  });

  it("keys go as query parameters, never in the statement's text", async () => {
    const creds = (): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }> => Promise.resolve({ accessKeyId: "AK", secretAccessKey: "SK", sessionToken: "T" });
    const tf = await new S3Store({ location: { endpoint: "http://h:1", bucket: "b", pattern: "*" }, credentials: creds, tableFunction: "s3" }).tableFunction({ key: "k", format: "Parquet", compression: "none" });
    expect(tf.sql).not.toMatch(/AK|SK/);
    expect(tf.params).toEqual({ url: "http://h:1/b/k", key_id: "AK", secret: "SK", token: "T" });
  });

  it("the pipe user's privileges per store", () => {
    expect(readPrivileges({ ...base, type: "s3" })).toEqual(["CREATE TEMPORARY TABLE", "S3"]);
    expect(readPrivileges({ ...base, type: "gcs" })).toEqual(["CREATE TEMPORARY TABLE", "URL"]);
    expect(readPrivileges({ ...base, type: "gcs", authentication: "SERVICE_ACCOUNT" })).toEqual([]);
  });
});
