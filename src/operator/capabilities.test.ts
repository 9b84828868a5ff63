import { describe, expect, it } from "vitest";
import { ConditionReason } from "../api/index.js";
import { unsupportedSource } from "./capabilities.js";
import { samplePipe } from "./test-fixtures.js";

describe("unsupportedSource", () => {
  it("lets Kafka pipes through", () => {
    expect(unsupportedSource(samplePipe())).toBeUndefined();
  });

  it("blocks a Kinesis pipe with a condition that names the field", () => {
    const kinesis = samplePipe({ spec: { source: { kinesis: { streamName: "events", region: "us-east-1", authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/clickpipes" } } } });
    const blocker = unsupportedSource(kinesis);
    expect(blocker?.reason).toBe(ConditionReason.SourceNotSupported);
    expect(blocker?.message).toMatch(/^spec\.source\.kinesis: this release ingests kafka sources only/);
  });
});
