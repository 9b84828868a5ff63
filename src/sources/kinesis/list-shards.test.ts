import type { ListShardsCommand, Shard } from "@aws-sdk/client-kinesis";
import { describe, expect, it } from "vitest";
import { listAllShards, toShardInfo } from "./list-shards.js";

describe("ListShards", () => {
  it("follows NextToken without the stream name, and reads parents and closed state", async () => {
    const inputs: unknown[] = [];
    const pages = [
      { Shards: [{ ShardId: "shardId-000000000000", SequenceNumberRange: { StartingSequenceNumber: "1", EndingSequenceNumber: "9" } }], NextToken: "t1" },
      { Shards: [{ ShardId: "shardId-000000000001", ParentShardId: "shardId-000000000000" }], NextToken: "t2" },
      { Shards: [{ ShardId: "shardId-000000000002", ParentShardId: "shardId-000000000000", AdjacentParentShardId: "shardId-000000000001" }] },
    ];
    const client = {
      send: (cmd: ListShardsCommand): Promise<unknown> => {
        inputs.push(cmd.input);
        return Promise.resolve(pages[inputs.length - 1]);
      },
    };
    const shards = await listAllShards(client as never, "events");
    expect(inputs).toEqual([{ StreamName: "events", MaxResults: 1000 }, { NextToken: "t1", MaxResults: 1000 }, { NextToken: "t2", MaxResults: 1000 }]);
    expect(shards).toEqual([
      { id: "shardId-000000000000", parents: [], closed: true },
      { id: "shardId-000000000001", parents: ["shardId-000000000000"], closed: false },
      { id: "shardId-000000000002", parents: ["shardId-000000000000", "shardId-000000000001"], closed: false },
    ]);
  });

  it("treats an empty parent id as none", () => {
    expect(toShardInfo({ ShardId: "s", ParentShardId: "" } as Shard).parents).toEqual([]);
  });
});
