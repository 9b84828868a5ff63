import { describe, expect, it } from "vitest";
import { DestinationError, isDataError } from "./errors.js";
import { avroConfluentFrames, FramePause, framesFailure, framesFit, registryUrlWithCredentials, serverCannotReachRegistry } from "./frame-passthrough.js";

const refusal = (code: number, message: string): DestinationError => new DestinationError(message, { retriable: true, dataError: false, code });

describe("frame passthrough", () => {
  it("puts the registry's credentials in the URL ClickHouse fetches from, encoded", () => {
    expect(registryUrlWithCredentials({ url: "http://registry:8081/apis/ccompat/v7/", username: "u@x", password: "p:w/d" })).toBe("http://u%40x:p%3Aw%2Fd@registry:8081/apis/ccompat/v7");
    expect(registryUrlWithCredentials({ url: "https://registry:8081" })).toBe("https://registry:8081");
  });

  it("leaves a registry URL that pins a schema to the consumer", () => {
    expect(avroConfluentFrames({ url: "http://r:8081/subjects/orders-value/versions/3" }, () => true)).toBeUndefined();
    expect(avroConfluentFrames({ url: "http://r:8081" }, () => true)).toMatchObject({ format: "AvroConfluent", settings: { format_avro_schema_registry_url: "http://r:8081" } });
  });

  it("passes frames through only to tables filled by name; JSON lines as the mapper says", () => {
    const frames = avroConfluentFrames({ url: "http://r:8081" }, () => true);
    expect(framesFit(frames, { passthrough: false, byName: true })).toBe(true);
    expect(framesFit(frames, { passthrough: true, byName: false })).toBe(false);
    expect(framesFit(undefined, { passthrough: true, byName: false })).toBe(true);
  });

  it("takes a registry 404 from the engine for a data refusal, and keeps an unreachable or failing registry a system error", () => {
    const notFound = framesFailure(refusal(86, "Received error from remote server /apis/ccompat/v7/schemas/ids/0. HTTP status code: 404 'Not Found'"));
    expect(isDataError(notFound)).toBe(true);
    const down = refusal(210, "Connection refused: while fetching schema id = 7");
    expect(framesFailure(down)).toBe(down);
    const unauthorized = refusal(86, "Received error from remote server /apis/ccompat/v7/schemas/ids/7. HTTP status code: 401 'Unauthorized'");
    expect(framesFailure(unauthorized)).toBe(unauthorized);
  });

  it("lets the consumer decode when the server cannot use the registry (unreachable, 401/5xx), not for a 404", () => {
    expect(serverCannotReachRegistry(refusal(210, "Connection refused: while fetching schema id = 7"))).toBe(true);
    expect(serverCannotReachRegistry(refusal(86, "Received error from remote server /schemas/ids/7. HTTP status code: 503 'Service Unavailable'"))).toBe(true);
    expect(serverCannotReachRegistry(refusal(86, "Received error from remote server /schemas/ids/7. HTTP status code: 404 'Not Found'"))).toBe(false);
    expect(serverCannotReachRegistry(new Error("socket hang up"))).toBe(false);
  });

  it("pauses frames for a while after the server could not use the registry, then tries again", () => {
    const pause = new FramePause(1_000);
    expect(pause.paused(0)).toBe(false);
    pause.pauseFrom(0);
    expect(pause.paused(999)).toBe(true);
    expect(pause.paused(1_000)).toBe(false);
  });
});
