/** The Kinesis source for one consumer: loaded on start (see ../lazy.ts), with the AWS SDK. */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { pipeId, type ClickPipeSpec } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { Source } from "../../ingest/source.js";
import type { SourceContext } from "../plugin.js";
import { initialIterator, kinesisAuth, kinesisClientConfig, kinesisFanOutClientConfig } from "./config.js";
import { roleSessionName } from "../aws-credentials.js";
import { KinesisRecordSource } from "./source.js";

export function kinesisSpec(spec: Pick<ClickPipeSpec, "source">): NonNullable<ClickPipeSpec["source"]["kinesis"]> {
  const kinesis = spec.source.kinesis;
  if (kinesis === undefined) throw new ConfigError("the Kinesis plugin was given a pipe without spec.source.kinesis");
  return kinesis;
}

export function openKinesis(ctx: SourceContext): Source {
  const spec = kinesisSpec(ctx.pipe.spec);
  const auth = kinesisAuth(spec, ctx.secrets, roleSessionName(pipeId(ctx.pipe)));
  const { namespace, name } = ctx.pipe.metadata;
  const fanOut =
    spec.enhancedFanOut === undefined
      ? undefined
      : { consumerName: spec.enhancedFanOut.consumerName ?? `clickpipes-${namespace ?? "default"}-${name}`, client: new KinesisClient(kinesisFanOutClientConfig(spec, auth)) };
  return new KinesisRecordSource({
    ...(fanOut === undefined ? {} : { fanOut }),
    streamName: spec.streamName,
    client: new KinesisClient(kinesisClientConfig(spec, auth)),
    initial: initialIterator(spec),
    replica: ctx.replica,
    checkpoints: ctx.checkpoints,
    logger: ctx.logger,
    onFatal: ctx.onFatal,
  });
}
