import { describe, expect, it } from "vitest";
import { parseS3Event } from "./events.js";

const created = (key: string, bucket = "b", eventName = "ObjectCreated:Put"): unknown => ({ eventName, s3: { bucket: { name: bucket }, object: { key } } });

describe("parseS3Event", () => {
  it("takes the created objects, their keys decoded as S3 encodes them", () => {
    const body = JSON.stringify({ Records: [created("logs/a+b/x%2By.json"), created("k", "other", "ObjectRemoved:Delete"), created("c.json", "b", "ObjectCreated:CompleteMultipartUpload")] });
    expect(parseS3Event(body)).toEqual({ ok: true, objects: [{ bucket: "b", key: "logs/a b/x+y.json" }, { bucket: "b", key: "c.json" }] });
  });

  it("names nothing for S3's test event", () => {
    expect(parseS3Event(JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "b" }))).toEqual({ ok: true, objects: [] });
  });

  it("says why a message is malformed", () => {
    expect(parseS3Event("nope")).toEqual({ ok: false, reason: "the message body is not JSON" });
    expect(parseS3Event("[1]")).toEqual({ ok: false, reason: "the message body is not a JSON object" });
    expect(parseS3Event("{}")).toEqual({ ok: false, reason: "the message has no Records array of S3 events" });
    expect(parseS3Event(JSON.stringify({ Records: [{ eventName: "ObjectCreated:Put" }] }))).toMatchObject({ ok: false });
    expect(parseS3Event(JSON.stringify({ Records: [created("%E0%A4%A")] }))).toMatchObject({ ok: false });
  });
});
