import { describe, expect, it } from "vitest";
import { SourceError } from "../../ingest/errors.js";
import { classifyKinesisError, kinesisError } from "./errors.js";

function awsError(name: string, message = "x"): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

describe("Kinesis errors", () => {
  it("sorts AWS exceptions by what the read loop does", () => {
    expect(classifyKinesisError(awsError("ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000001"))).toBe("throttled");
    expect(classifyKinesisError(awsError("LimitExceededException"))).toBe("throttled");
    expect(classifyKinesisError(awsError("ExpiredIteratorException", "Iterator expired"))).toBe("expiredIterator");
    expect(classifyKinesisError(awsError("ResourceNotFoundException", "Stream events under account 000000000000 not found."))).toBe("retriable");
    expect(classifyKinesisError(awsError("UnrecognizedClientException"))).toBe("retriable");
    expect(classifyKinesisError(new Error("socket hang up"))).toBe("retriable");
    expect(classifyKinesisError(awsError("InvalidArgumentException"))).toBe("fatal");
    expect(classifyKinesisError("weird")).toBe("retriable");
  });

  it("maps them into SourceError with context", () => {
    const e = kinesisError("GetRecords failed", awsError("InvalidArgumentException", "bad iterator"), { shardId: "s" });
    expect(e).toBeInstanceOf(SourceError);
    expect(e.retriable).toBe(false);
    expect(e.message).toBe("GetRecords failed: InvalidArgumentException: bad iterator");
    expect(e.context).toEqual({ shardId: "s" });
    expect(kinesisError("x", awsError("ResourceNotFoundException"), {}).retriable).toBe(true);
  });
});
