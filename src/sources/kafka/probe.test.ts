import { describe, expect, it } from "vitest";
import { classifyKafkaFailure, kafkaLag } from "./probe.js";

describe("kafkaLag", () => {
  it("sums records behind the high watermark, counting uncommitted partitions from their low watermark", () => {
    const topics = new Map([
      ["a", [{ partition: 0, high: "100", low: "0" }, { partition: 1, high: "50", low: "10" }]],
      ["b", [{ partition: 0, high: "7", low: "7" }]],
    ]);
    const committed = new Map([
      ["a", [{ partition: 0, offset: "90" }, { partition: 1, offset: "-1" }]],
      ["b", [{ partition: 0, offset: "7" }]],
    ]);
    expect(kafkaLag(topics, committed)).toBe(10 + 40);
  });

  it("never reports a negative lag for a commit beyond the watermark", () => {
    expect(kafkaLag(new Map([["a", [{ partition: 0, high: "5", low: "0" }]]]), new Map([["a", [{ partition: 0, offset: "9" }]]]))).toBe(0);
  });
});

describe("classifyKafkaFailure", () => {
  it("tells rejected credentials, a missing topic and an unreachable cluster apart", () => {
    expect(classifyKafkaFailure(Object.assign(new Error("SASL SCRAM SHA512 authentication failed: Authentication failed"), { name: "KafkaJSSASLAuthenticationError" })).reason).toBe("SourceAuthenticationFailed");
    expect(classifyKafkaFailure(new Error("This server does not host this topic-partition")).reason).toBe("TopicNotFound");
    const down = classifyKafkaFailure(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:1"));
    expect(down).toMatchObject({ ok: false, reason: "SourceUnreachable" });
    expect(down.message).toContain("ECONNREFUSED");
  });
});
