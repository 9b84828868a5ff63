import { type KinesisClient, ListShardsCommand, type Shard } from "@aws-sdk/client-kinesis";
import type { ShardInfo } from "./shards.js";

export function toShardInfo(s: Shard): ShardInfo {
  const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => p !== undefined && p !== "");
  return { id: s.ShardId ?? "", parents, closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined };
}

/**
 * Every shard of the stream, open and closed (closed ones until they leave the retention
 * period), following NextToken: a stream may have thousands of shards and ListShards
 * returns at most 1,000 per call. A call with NextToken must not name the stream.
 */
export async function listAllShards(client: Pick<KinesisClient, "send">, streamName: string, signal?: AbortSignal): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  let token: string | undefined;
  do {
    const input = token === undefined ? { StreamName: streamName, MaxResults: 1000 } : { NextToken: token, MaxResults: 1000 };
    const page = await client.send(new ListShardsCommand(input), signal === undefined ? {} : { abortSignal: signal });
    for (const s of page.Shards ?? []) shards.push(toShardInfo(s));
    token = page.NextToken;
  } while (token !== undefined && token !== "");
  return shards;
}
