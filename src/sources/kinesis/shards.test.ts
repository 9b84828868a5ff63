import { describe, expect, it } from "vitest";
import { type ShardInfo, endPosition, isEndPosition, kinesisStream, ownedShards, readyToRead, shardOfStream, shardOwner, startAt } from "./shards.js";

const id = (n: number): string => `shardId-${String(n).padStart(12, "0")}`;
const shard = (n: number, parents: number[] = [], closed = false): ShardInfo => ({ id: id(n), parents: parents.map(id), closed });

describe("shard assignment", () => {
  it("gives every shard to exactly one of N replicas, > 100 shards included", () => {
    const shards = Array.from({ length: 257 }, (_, n) => shard(n));
    for (const count of [1, 2, 3, 7]) {
      const parts = Array.from({ length: count }, (_, index) => ownedShards(shards, { index, count }).map((s) => s.id));
      const all = parts.flat();
      expect(new Set(all).size).toBe(257);
      expect(all).toHaveLength(257);
      // Balanced within one shard.
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it("depends on the shard id only, so replicas listing at different moments of a reshard agree", () => {
    expect(shardOwner(id(5), 2)).toBe(1);
    expect(shardOwner(id(6), 2)).toBe(0);
    expect(ownedShards([shard(5)], { index: 1, count: 2 })).toHaveLength(1);
    expect(ownedShards([shard(5), shard(6), shard(7)], { index: 1, count: 2 }).map((s) => s.id)).toEqual([id(5), id(7)]);
  });

  it("hashes shard ids without a numeric suffix, deterministically", () => {
    const owner = shardOwner("custom-shard", 3);
    expect(owner).toBeGreaterThanOrEqual(0);
    expect(owner).toBeLessThan(3);
    expect(shardOwner("custom-shard", 3)).toBe(owner);
    expect(shardOwner("anything", 1)).toBe(0);
  });
});

describe("positions", () => {
  it("names streams stream/shard and marks finished shards", () => {
    expect(kinesisStream("events", id(3))).toBe("events/shardId-000000000003");
    expect(shardOfStream("events", "events/shardId-000000000003")).toBe(id(3));
    expect(shardOfStream("events", "other/shardId-000000000003")).toBeUndefined();
    expect(endPosition("4969")).toBe("END:4969");
    expect(endPosition(undefined)).toBe("END");
    expect(isEndPosition("END:4969")).toBe(true);
    expect(isEndPosition("END")).toBe(true);
    expect(isEndPosition("4969")).toBe(false);
    expect(isEndPosition(undefined)).toBe(false);
  });
});

describe("where a shard starts", () => {
  const trim = { type: "TRIM_HORIZON" } as const;
  const latest = { type: "LATEST" } as const;
  const at = { type: "AT_TIMESTAMP", timestamp: new Date(1_700_000_000_000) } as const;

  it("resumes after its checkpoint, and not at all after an END checkpoint", () => {
    expect(startAt(shard(0), { checkpoint: "123", parentRead: false, initial: latest })).toEqual({ type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: "123" });
    expect(startAt(shard(0, [], true), { checkpoint: "END:123", parentRead: false, initial: trim })).toEqual({ type: "FINISHED" });
  });

  it("starts a child of a shard the pipe read at its beginning, whatever the iterator type", () => {
    expect(startAt(shard(4, [0]), { checkpoint: undefined, parentRead: true, initial: latest })).toEqual({ type: "TRIM_HORIZON" });
    expect(startAt(shard(4, [0]), { checkpoint: undefined, parentRead: true, initial: at })).toEqual({ type: "TRIM_HORIZON" });
  });

  it("uses the spec's iterator type for shards never read; LATEST skips closed shards", () => {
    expect(startAt(shard(0), { checkpoint: undefined, parentRead: false, initial: at })).toEqual(at);
    expect(startAt(shard(0, [], true), { checkpoint: undefined, parentRead: false, initial: at })).toEqual(at);
    expect(startAt(shard(0, [], true), { checkpoint: undefined, parentRead: false, initial: latest })).toEqual({ type: "SKIP" });
    expect(startAt(shard(2, [0]), { checkpoint: undefined, parentRead: false, initial: latest })).toEqual(latest);
  });
});

describe("parents before children", () => {
  const known = new Set([id(0), id(1), id(2), id(3), id(4)]);

  it("waits for every parent of a merge to finish", () => {
    const merged = shard(4, [1, 2]);
    expect(readyToRead(merged, known, (s) => s === id(1))).toBe(false);
    expect(readyToRead(merged, known, (s) => s === id(1) || s === id(2))).toBe(true);
  });

  it("waits for the parent of a split; a parent gone from the list (expired) is not waited for", () => {
    expect(readyToRead(shard(3, [0]), known, () => false)).toBe(false);
    expect(readyToRead(shard(9, [7]), known, () => false)).toBe(true);
    expect(readyToRead(shard(0), known, () => false)).toBe(true);
  });
});
