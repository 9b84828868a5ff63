import { KafkaJSNonRetriableError, KafkaJSProtocolError } from "kafkajs";
import { describe, expect, it } from "vitest";
import { isRebalanceError } from "./rebalance-errors.js";

describe("rebalance errors", () => {
  // As kafkajs' retrier throws it (retry/index.js): the message kept, the protocol error as the cause.
  const wrapped = (e: Error): Error => Object.assign(new KafkaJSNonRetriableError(e), { cause: e });
  const unknownMember = new KafkaJSProtocolError({ message: "The coordinator is not aware of this member", type: "UNKNOWN_MEMBER_ID", code: 25, retriable: false } as unknown as Error);

  it("recognises a protocol error and the non-retriable error kafkajs' retrier wraps it in", () => {
    expect(isRebalanceError(unknownMember)).toBe(true);
    expect(isRebalanceError(wrapped(unknownMember))).toBe(true);
  });

  it("leaves other failures to be retried", () => {
    const down = new KafkaJSProtocolError({ message: "broker not available", type: "BROKER_NOT_AVAILABLE", code: 8, retriable: true } as unknown as Error);
    expect(isRebalanceError(wrapped(down))).toBe(false);
    expect(isRebalanceError(new Error("connect ECONNREFUSED"))).toBe(false);
    expect(isRebalanceError(undefined)).toBe(false);
  });
});
