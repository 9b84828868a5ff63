import { describe, expect, it } from "vitest";
import { DestinationError } from "./errors.js";
import { backoffDelay, retry } from "./retry.js";

describe("retry", () => {
  it("grows the delay exponentially up to the cap, with jitter in [d/2, d]", () => {
    const at = (attempt: number, r: number): number => backoffDelay(attempt, { initialMs: 100, maxMs: 1000, random: () => r });
    expect(at(0, 1)).toBe(100);
    expect(at(0, 0)).toBe(50);
    expect(at(3, 1)).toBe(800);
    expect(at(10, 1)).toBe(1000);
    expect(at(10, 0)).toBe(500);
  });

  it("retries retriable failures until they succeed", async () => {
    let calls = 0;
    const result = await retry(
      () => {
        calls++;
        if (calls < 3) return Promise.reject(new DestinationError("ClickHouse down", { retriable: true }));
        return Promise.resolve("done");
      },
      { initialMs: 1, maxMs: 2 },
    );
    expect(result).toBe("done");
    expect(calls).toBe(3);
  });

  it("does not retry an error that says it cannot succeed", async () => {
    let calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(new DestinationError("syntax error", { retriable: false }));
        },
        { initialMs: 1 },
      ),
    ).rejects.toThrow("syntax error");
    expect(calls).toBe(1);
  });

  it("stops waiting when aborted and rethrows the last error", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(
      retry(
        () => Promise.reject(new DestinationError("still down", { retriable: true })),
        { initialMs: 10_000, signal: controller.signal },
      ),
    ).rejects.toThrow("still down");
  });
});
