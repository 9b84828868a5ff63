import { describe, expect, it } from "vitest";
import type { ObjectStorageSource } from "../../api/index.js";
import { parseLocation } from "./location.js";

const s3 = (url: string): ObjectStorageSource => ({ type: "s3", url, format: "JSONEachRow", compression: "auto", continuous: false });

describe("parseLocation", () => {
  it("reads AWS virtual-hosted URLs with and without a region", () => {
    expect(parseLocation(s3("https://logs.s3.eu-west-1.amazonaws.com/a/**/*.json.gz"))).toEqual({ bucket: "logs", region: "eu-west-1", pattern: "a/**/*.json.gz" });
    expect(parseLocation(s3("https://logs.s3.amazonaws.com/{a,b}/*.csv"))).toEqual({ bucket: "logs", pattern: "{a,b}/*.csv" });
  });

  it("reads s3:// and gs:// URLs and AWS path-style URLs", () => {
    expect(parseLocation(s3("s3://logs/x/*.json"))).toEqual({ bucket: "logs", pattern: "x/*.json" });
    expect(parseLocation({ ...s3("gs://b/x/?.json"), type: "gcs" })).toEqual({ bucket: "b", pattern: "x/?.json" });
    expect(parseLocation(s3("https://s3.us-east-2.amazonaws.com/logs/x/*.json"))).toEqual({ bucket: "logs", region: "us-east-2", pattern: "x/*.json" });
  });

  it("takes a DigitalOcean Spaces URL as its regional endpoint, path-style", () => {
    expect(parseLocation({ ...s3("https://space.nyc3.digitaloceanspaces.com/d/*.parquet"), type: "dospaces" })).toEqual({
      bucket: "space",
      region: "nyc3",
      endpoint: "https://nyc3.digitaloceanspaces.com",
      pattern: "d/*.parquet",
    });
  });

  it("takes any other host as an S3-compatible endpoint, bucket first in the path", () => {
    expect(parseLocation(s3("http://127.0.0.1:9000/bucket/data/**/*.json"))).toEqual({ endpoint: "http://127.0.0.1:9000", bucket: "bucket", pattern: "data/**/*.json" });
  });

  it("refuses a URL without a bucket and key glob, naming the field", () => {
    expect(() => parseLocation(s3("http://127.0.0.1:9000/bucket"))).toThrow(/spec.source.objectStorage.url/);
  });

  it("uses Azure's container and path", () => {
    expect(parseLocation({ type: "azureblobstorage", azureContainerName: "c", path: "/a/*.avro", format: "Avro", compression: "auto", continuous: false })).toEqual({ bucket: "c", pattern: "a/*.avro" });
  });
});
