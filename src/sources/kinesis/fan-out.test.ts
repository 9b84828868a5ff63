import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  type SubscribeToShardEventStream,
} from "@aws-sdk/client-kinesis";
import { describe, expect, it } from "vitest";
import { KinesisSourceSchema } from "../../api/index.js";
import { createLogger } from "../../ingest/logger.js";
import type { RawRecord } from "../../ingest/source.js";
import { kinesisAuth, kinesisFanOutClientConfig } from "./config.js";
import { FanOutShardReader, ensureStreamConsumer, startingPosition } from "./fan-out.js";
import { AWS_SHARD_LIMITS } from "./pacing.js";

// Enhanced fan-out cannot run on the local emulators (kinesalite has no stream consumers;
// kinesis-mock's HTTP/2 answers fail in the SDK): these tests drive it with a fake client.

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name });
}

async function* events(list: SubscribeToShardEventStream[]): AsyncGenerator<SubscribeToShardEventStream> {
  for (const e of list) {
    await Promise.resolve();
    yield e;
  }
}

const record = (seq: number): { SequenceNumber: string; Data: Uint8Array; PartitionKey: string; ApproximateArrivalTimestamp: Date } => ({
  SequenceNumber: String(seq),
  Data: Buffer.from(`r${seq}`),
  PartitionKey: "k",
  ApproximateArrivalTimestamp: new Date(0),
});

describe("enhanced fan-out", () => {
  it("starts a subscription after the last record, else at the shard's planned start", () => {
    expect(startingPosition({ type: "TRIM_HORIZON" }, undefined)).toEqual({ Type: "TRIM_HORIZON" });
    expect(startingPosition({ type: "LATEST" }, undefined)).toEqual({ Type: "LATEST" });
    expect(startingPosition({ type: "AT_TIMESTAMP", timestamp: new Date(5) }, undefined)).toEqual({ Type: "AT_TIMESTAMP", Timestamp: new Date(5) });
    expect(startingPosition({ type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: "7" }, undefined)).toEqual({ Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: "7" });
    expect(startingPosition({ type: "TRIM_HORIZON" }, "42")).toEqual({ Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: "42" });
  });

  it("registers the pipe's stream consumer when missing and waits until it is ACTIVE", async () => {
    const calls: string[] = [];
    let described = 0;
    const client = {
      send: (cmd: unknown): Promise<unknown> => {
        calls.push((cmd as { constructor: { name: string } }).constructor.name);
        if (cmd instanceof DescribeStreamSummaryCommand) return Promise.resolve({ StreamDescriptionSummary: { StreamARN: "arn:stream" } });
        if (cmd instanceof DescribeStreamConsumerCommand) {
          described++;
          if (described === 1) return Promise.reject(awsError("ResourceNotFoundException"));
          return Promise.resolve({ ConsumerDescription: { ConsumerStatus: "ACTIVE", ConsumerARN: "arn:consumer" } });
        }
        if (cmd instanceof RegisterStreamConsumerCommand) {
          expect(cmd.input).toEqual({ StreamARN: "arn:stream", ConsumerName: "clickpipes-test-p" });
          return Promise.resolve({ Consumer: { ConsumerStatus: "CREATING", ConsumerARN: "arn:consumer" } });
        }
        return Promise.reject(new Error("unexpected"));
      },
    };
    await expect(ensureStreamConsumer(client as never, "events", "clickpipes-test-p", new AbortController().signal)).resolves.toBe("arn:consumer");
    expect(calls).toEqual(["DescribeStreamSummaryCommand", "DescribeStreamConsumerCommand", "RegisterStreamConsumerCommand", "DescribeStreamConsumerCommand"]);
  });

  it("delivers pushed records, subscribes again after the continuation, and finishes the shard at its end", async () => {
    const subscriptions: unknown[] = [];
    const scripted: SubscribeToShardEventStream[][] = [
      [{ SubscribeToShardEvent: { Records: [record(1), record(2)], ContinuationSequenceNumber: "2", MillisBehindLatest: 900 } }],
      [
        { SubscribeToShardEvent: { Records: [], ContinuationSequenceNumber: "3", MillisBehindLatest: 0 } },
        { SubscribeToShardEvent: { Records: [record(4)], ContinuationSequenceNumber: undefined, MillisBehindLatest: 0, ChildShards: [{ ShardId: "shardId-000000000002", ParentShards: ["shardId-000000000000"], HashKeyRange: { StartingHashKey: "0", EndingHashKey: "1" } }] } },
      ],
    ];
    const client = {
      send: (cmd: unknown): Promise<unknown> => {
        if (!(cmd instanceof SubscribeToShardCommand)) return Promise.reject(new Error("unexpected"));
        subscriptions.push(cmd.input.StartingPosition);
        if (subscriptions.length === 2) return Promise.reject(awsError("ResourceInUseException"));
        return Promise.resolve({ EventStream: events(scripted.shift() ?? []) });
      },
    };
    const delivered: RawRecord[] = [];
    const lags: number[] = [];
    let finished: string | undefined;
    const reader = new FanOutShardReader(
      {
        client: client as never,
        streamName: "events",
        shardId: "shardId-000000000000",
        start: { type: "TRIM_HORIZON" },
        limits: AWS_SHARD_LIMITS,
        logger: createLogger("test/fan-out", "silent"),
        signal: new AbortController().signal,
        deliver: (records) => {
          delivered.push(...records);
          return Promise.resolve(true);
        },
        finish: (last) => {
          finished = last ?? "none";
          return Promise.resolve(true);
        },
        setLag: (ms) => lags.push(ms),
      },
      "arn:consumer",
    );
    await expect(reader.run()).resolves.toBe("finished");
    expect(delivered.map((r) => r.position)).toEqual(["1", "2", "4"]);
    expect(delivered[0]?.stream).toBe("events/shardId-000000000000");
    expect(finished).toBe("4");
    expect(lags).toEqual([900, 0, 0]);
    expect(subscriptions).toEqual([
      { Type: "TRIM_HORIZON" },
      { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: "2" },
      { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: "2" },
    ]);
  }, 10_000);

  it("uses the SDK's HTTP/2 handler (no HTTP/1.1 override) for SubscribeToShard", () => {
    const spec = KinesisSourceSchema.parse({ streamName: "events", region: "us-east-1", authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/r" });
    const config = kinesisFanOutClientConfig(spec, kinesisAuth(spec, { get: () => "" }, "s"));
    expect(config.requestHandler).toBeUndefined();
    expect(config.region).toBe("us-east-1");
  });
});
