import { DescribeStreamSummaryCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { ConditionReason, pipeId, type ClickPipe } from "../../api/index.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import type { SourceProbeResult } from "../plugin.js";
import { kinesisAuth, kinesisClientConfig } from "./config.js";
import { roleSessionName } from "../aws-credentials.js";
import { errorName } from "./errors.js";

type Reachability = SourceProbeResult["reachability"];

const AUTH_FAILURES = new Set(["UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException", "ExpiredTokenException", "IncompleteSignature", "InvalidClientTokenId"]);

/** A failed DescribeStreamSummary as the operator's SourceReachable condition. */
export function classifyKinesisProbeFailure(err: unknown, streamName: string): Reachability {
  const name = errorName(err);
  const message = err instanceof Error ? err.message : String(err);
  if (name === "ResourceNotFoundException") return { ok: false, reason: ConditionReason.TopicNotFound, message: `Kinesis stream ${streamName} not found: ${message}` };
  if (AUTH_FAILURES.has(name) || /assume IAM role/.test(message)) {
    return { ok: false, reason: ConditionReason.SourceAuthenticationFailed, message: `AWS rejected the credentials (${name}): ${message}` };
  }
  return { ok: false, reason: ConditionReason.SourceUnreachable, message: `Kinesis did not answer (${name}): ${message}` };
}

/**
 * Reachability from the operator with the pipe's own credentials: DescribeStreamSummary.
 * The backlog (ms behind the tip) is known only to the consumers reading the shards; they
 * write it in clickpipes_state, so the probe reports none.
 */
export async function probeKinesis(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<SourceProbeResult> {
  const spec = pipe.spec.source.kinesis;
  if (spec === undefined) throw new Error("probeKinesis: spec.source.kinesis is not set");
  let client: KinesisClient;
  try {
    client = new KinesisClient({ ...kinesisClientConfig(spec, kinesisAuth(spec, secrets, roleSessionName(pipeId(pipe))), timeoutMs), maxAttempts: 1 });
  } catch (err) {
    return { reachability: { ok: false, reason: ConditionReason.InvalidSpec, message: err instanceof Error ? err.message : String(err) } };
  }
  try {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: spec.streamName }), { abortSignal: AbortSignal.timeout(timeoutMs * 2) });
    const summary = out.StreamDescriptionSummary;
    const status = summary?.StreamStatus ?? "UNKNOWN";
    if (status === "DELETING") return { reachability: { ok: false, reason: ConditionReason.TopicNotFound, message: `Kinesis stream ${spec.streamName} is being deleted` } };
    return {
      reachability: { ok: true, reason: ConditionReason.SourceReachable, message: `stream ${spec.streamName} is ${status} with ${summary?.OpenShardCount ?? "?"} open shard(s)` },
    };
  } catch (err) {
    return { reachability: classifyKinesisProbeFailure(err, spec.streamName) };
  } finally {
    client.destroy();
  }
}
