import { describe, expect, it } from "vitest";
import { parseClickPipe } from "../../api/index.js";
import { grantsSql } from "../../clickhouse/users.js";
import { objectStoragePlugin, objectStoragePluginWith } from "./plugin.js";

const pipe = (continuous: boolean, extra: Record<string, unknown> = {}): ReturnType<typeof parseClickPipe> =>
  parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "p", namespace: "ns" },
    spec: {
      source: { objectStorage: { type: "s3", url: "s3://b/logs/**/*.json", continuous, authentication: "IAM_USER", credentialsSecretRef: { name: "aws" }, ...extra } },
      destination: { clickhouse: { url: "http://ch:8123", credentialsSecretRef: { name: "ch" } }, table: "logs", columns: [{ name: "id", type: "UInt64" }] },
    },
  });

describe("objectStoragePlugin", () => {
  it("is one-shot unless continuous, splits files by replica index, keeps positions in the checkpoint store", () => {
    expect(objectStoragePlugin.capabilities(pipe(false).spec)).toMatchObject({ mode: "oneShot", replicaIdentity: "index", positions: "checkpointStore", lagUnit: "bytes" });
    expect(objectStoragePlugin.capabilities(pipe(true).spec).mode).toBe("continuous");
    expect(objectStoragePlugin.virtualColumns.map((c) => c.name)).toEqual(["_path", "_file", "_size", "_time"]);
  });

  it("gives the pipe user the privileges ClickHouse needs to read the files, none when the consumer streams them", () => {
    const spec = pipe(false).spec;
    const privileges = objectStoragePlugin.sourcePrivileges?.(spec) ?? [];
    expect(grantsSql({ kind: "destinationOnly" }, "db", ["logs"], "u", { sourcePrivileges: privileges })).toEqual(
      expect.arrayContaining(["GRANT CREATE TEMPORARY TABLE ON *.* TO `u`", "GRANT S3 ON *.* TO `u`"]),
    );
    expect(objectStoragePluginWith({ transfer: "consumer" }).sourcePrivileges?.(spec)).toEqual([]);
  });

  it("records its files in a files table, and takes a queueUrl only on a continuous s3 pipe", () => {
    expect(objectStoragePlugin.capabilities(pipe(false).spec).filesTable).toBe(true);
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/events";
    expect(pipe(true, { queueUrl }).spec.source.objectStorage?.queueUrl).toBe(queueUrl);
    expect(() => pipe(false, { queueUrl })).toThrow(/queueUrl/);
    expect(() => pipe(true, { type: "dospaces", queueUrl })).toThrow(/queueUrl/);
    expect(() => pipe(true, { queueUrl: "not a url" })).toThrow(/queueUrl/);
  });
});
