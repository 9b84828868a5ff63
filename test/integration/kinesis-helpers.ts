import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type Shard,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import { stringify } from "yaml";
import { emulatorClient } from "../stack/kinesis.js";
import type { StackEnv } from "./ingest-helpers.js";

/** A client for the stack's Kinesis emulator. */
export function kinesisClient(env: StackEnv): KinesisClient {
  return emulatorClient(env.KINESIS_ENDPOINT ?? "", env.KINESIS_REGION);
}

async function waitActive(client: KinesisClient, stream: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (out.StreamDescriptionSummary?.StreamStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stream ${stream} did not become ACTIVE`);
}

export async function createStream(client: KinesisClient, stream: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  await waitActive(client, stream);
}

export async function listShards(client: KinesisClient, stream: string): Promise<Shard[]> {
  return (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
}

/** PutRecords in calls of 500 (the API's limit), resending the entries a call reports as failed. */
export async function putRecords(client: KinesisClient, stream: string, records: readonly PutRecordsRequestEntry[]): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    let pending = records.slice(i, i + 500);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error(`PutRecords kept failing for ${pending.length} records`);
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
      const results = out.Records ?? [];
      pending = pending.filter((_, j) => results[j]?.ErrorCode !== undefined);
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
}

export function entry(key: string, value: string): PutRecordsRequestEntry {
  return { PartitionKey: key, Data: Buffer.from(value) };
}

/** Split a shard at the middle of its hash key range; resolves once the stream is ACTIVE again. */
export async function splitShard(client: KinesisClient, stream: string, shard: Shard): Promise<void> {
  const lo = BigInt(shard.HashKeyRange?.StartingHashKey ?? "0");
  const hi = BigInt(shard.HashKeyRange?.EndingHashKey ?? "0");
  await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shard.ShardId, NewStartingHashKey: ((lo + hi) / 2n).toString() }));
  await waitActive(client, stream);
}

/** Merge two adjacent open shards; resolves once the stream is ACTIVE again. */
export async function mergeShards(client: KinesisClient, stream: string, a: string, b: string): Promise<void> {
  await client.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: a, AdjacentShardToMerge: b }));
  await waitActive(client, stream);
}

/** Two open shards whose hash key ranges touch, preferring two of different lineages (a merge across a split). */
export function adjacentOpenShards(shards: readonly Shard[]): [Shard, Shard] | undefined {
  const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
  const pairs: [Shard, Shard][] = [];
  for (const a of open) {
    const next = (BigInt(a.HashKeyRange?.EndingHashKey ?? "0") + 1n).toString();
    const b = open.find((s) => s.HashKeyRange?.StartingHashKey === next);
    if (b !== undefined) pairs.push([a, b]);
  }
  return pairs.find(([a, b]) => a.ParentShardId !== b.ParentShardId) ?? pairs[0];
}

/** Ids of the shards that are closed (split, merged). */
export function closedShardIds(shards: readonly Shard[]): string[] {
  return shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber !== undefined).map((s) => s.ShardId ?? "").sort();
}

export interface KinesisPipeOptions {
  readonly name: string;
  readonly database: string;
  readonly table: string;
  readonly kinesis: Record<string, unknown>;
  readonly columns: readonly { name: string; type: string }[];
  readonly sortingKey?: readonly string[];
  readonly settings?: Record<string, unknown>;
}

/** A `clickpipes run` file for a Kinesis pipe on the stack's emulator (IAM_USER with the emulator's dummy key). */
export function writeKinesisPipeFile(env: StackEnv, o: KinesisPipeOptions): string {
  const dir = mkdtempSync(join(tmpdir(), "kinesis-"));
  const pipe = {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name, namespace: "test" },
    spec: {
      source: {
        kinesis: { region: env.KINESIS_REGION, endpoint: env.KINESIS_ENDPOINT, authentication: "IAM_USER", credentialsSecretRef: { name: "aws" }, ...o.kinesis },
      },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: o.database,
        table: o.table,
        managedTable: true,
        columns: o.columns,
        tableDefinition: { engine: { type: "MergeTree" }, sortingKey: o.sortingKey ?? ["id"] },
      },
      settings: { streamingMaxInsertWaitTime: "1s", ...o.settings },
    },
  };
  const secrets = {
    "ch-admin": { username: env.CLICKHOUSE_USER ?? "", password: env.CLICKHOUSE_PASSWORD ?? "" },
    aws: { accessKeyId: "test", secretAccessKey: "test" },
  };
  const docs = [pipe, ...Object.entries(secrets).map(([name, stringData]) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData }))];
  const file = join(dir, "pipe.yaml");
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

/** Shard ids a consumer's log says it read ("reading shard" lines). */
export function shardsReadIn(log: string): string[] {
  const ids = new Set<string>();
  for (const line of log.split("\n")) {
    if (!line.includes('"reading shard"')) continue;
    const m = /"shardId":"([^"]+)"/.exec(line);
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  return [...ids].sort();
}
