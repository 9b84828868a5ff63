import { Kafka, logLevel, type Admin } from "kafkajs";
import { ConditionReason, defaultConsumerGroup, splitList, type ClickPipe, type KafkaSource } from "../api/index.js";
import type { SecretResolver } from "../ingest/secrets.js";
import { kafkaClientConfig } from "../sources/kafka/config.js";
import type { Reachability } from "./status.js";

/**
 * Reachability of a pipe's source from the operator, with the pipe's own credentials, and
 * the source's backlog where it can tell. Kafka: connect an admin client, describe the
 * cluster, and compare the group's committed offsets with the topics' high watermarks.
 */

export interface SourceProbeResult {
  readonly reachability: Reachability;
  readonly lag?: number;
}

export type SourceProber = (pipe: ClickPipe, secrets: SecretResolver) => Promise<SourceProbeResult | undefined>;

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

export async function probeKafka(pipe: ClickPipe, source: KafkaSource, secrets: SecretResolver, timeoutMs: number): Promise<SourceProbeResult> {
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

/** Probes the pipe's source kind; undefined for kinds the operator cannot probe yet. */
export function sourceProber(timeoutMs: number): SourceProber {
  return async (pipe, secrets) => {
    const kafka = pipe.spec.source.kafka;
    if (kafka) return probeKafka(pipe, kafka, secrets, timeoutMs);
    return undefined;
  };
}
