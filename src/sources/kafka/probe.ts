import { Kafka, logLevel, type Admin } from "kafkajs";
import { ConditionReason, defaultConsumerGroup, splitList, type ClickPipe, type KafkaSource } from "../../api/index.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import type { SourceProbeResult } from "../plugin.js";
import { kafkaClientConfig } from "./config.js";

type Reachability = SourceProbeResult["reachability"];

/**
 * Reachability of a pipe's source from the operator, with the pipe's own credentials, and
 * the source's backlog where it can tell. Kafka: connect an admin client, describe the
 * cluster, and compare the group's committed offsets with the topics' high watermarks.
 */

/** Records behind the high watermark over all partitions; a partition without a commit counts from its low watermark. */
export function kafkaLag(
  topicOffsets: ReadonlyMap<string, readonly { partition: number; high: string; low: string }[]>,
  committed: ReadonlyMap<string, readonly { partition: number; offset: string }[]>,
): number {
  let lag = 0;
  for (const [topic, partitions] of topicOffsets) {
    const commits = new Map((committed.get(topic) ?? []).map((c) => [c.partition, Number(c.offset)]));
    for (const p of partitions) {
      const c = commits.get(p.partition);
      const from = c === undefined || c < 0 ? Number(p.low) : c;
      lag += Math.max(0, Number(p.high) - from);
    }
  }
  return lag;
}

export function classifyKafkaFailure(error: unknown): Reachability {
  const e = error instanceof Error ? error : new Error(String(error));
  const text = `${e.name} ${e.message} ${e.cause instanceof Error ? e.cause.message : ""}`;
  if (/SASL|authenticat/i.test(text)) return { ok: false, reason: ConditionReason.SourceAuthenticationFailed, message: `Kafka rejected the credentials: ${e.message}` };
  if (/does not host this topic-partition|UNKNOWN_TOPIC|topic.*(not found|does not exist)/i.test(text)) {
    return { ok: false, reason: ConditionReason.TopicNotFound, message: `topic not found: ${e.message}` };
  }
  return { ok: false, reason: ConditionReason.SourceUnreachable, message: `Kafka brokers did not answer: ${e.message}` };
}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function measureLag(admin: Admin, source: KafkaSource, group: string): Promise<number> {
  const topics = splitList(source.topics);
  const topicOffsets = new Map<string, { partition: number; high: string; low: string }[]>();
  for (const topic of topics) topicOffsets.set(topic, await admin.fetchTopicOffsets(topic));
  const committed = new Map<string, { partition: number; offset: string }[]>();
  for (const t of await admin.fetchOffsets({ groupId: group, topics })) committed.set(t.topic, t.partitions);
  return kafkaLag(topicOffsets, committed);
}

export async function probeKafka(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<SourceProbeResult> {
  const source = pipe.spec.source.kafka;
  if (source === undefined) throw new Error("probeKafka: spec.source.kafka is not set");
  let admin: Admin;
  try {
    const config = kafkaClientConfig(source, secrets, "clickpipes-operator");
    admin = new Kafka({ ...config, connectionTimeout: timeoutMs, requestTimeout: timeoutMs, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
  } catch (error) {
    return { reachability: { ok: false, reason: ConditionReason.InvalidSpec, message: error instanceof Error ? error.message : String(error) } };
  }
  try {
    return await withTimeout("Kafka probe", timeoutMs * 2, (async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      const reachability = { ok: true, reason: ConditionReason.SourceReachable, message: `connected to ${cluster.brokers.length} broker(s)` };
      try {
        return { reachability, lag: await measureLag(admin, source, source.consumerGroup ?? defaultConsumerGroup(pipe)) };
      } catch (lagError) {
        // The cluster answered; offsets can be briefly unavailable (group coordinator loading,
        // topic not created yet) and the lag then stays as last reported.
        const failure = classifyKafkaFailure(lagError);
        return failure.reason === ConditionReason.TopicNotFound ? { reachability: failure } : { reachability };
      }
    })());
  } catch (error) {
    return { reachability: classifyKafkaFailure(error) };
  } finally {
    await admin.disconnect();
  }
}
