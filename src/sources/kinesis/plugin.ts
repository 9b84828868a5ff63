import { KinesisClient } from "@aws-sdk/client-kinesis";
import { MAX_REPLICAS, pipeId, secretReferences, type ClickPipeSpec } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SourcePlugin } from "../plugin.js";
import { initialIterator, kinesisAuth, kinesisClientConfig, kinesisFanOutClientConfig, roleSessionName } from "./config.js";
import { probeKinesis } from "./probe.js";
import { KinesisRecordSource } from "./source.js";
import { KINESIS_VIRTUAL_COLUMNS } from "./virtual-columns.js";

function kinesisSpec(spec: Pick<ClickPipeSpec, "source">): NonNullable<ClickPipeSpec["source"]["kinesis"]> {
  const kinesis = spec.source.kinesis;
  if (kinesis === undefined) throw new ConfigError("the Kinesis plugin was given a pipe without spec.source.kinesis");
  return kinesis;
}

/** Amazon Kinesis Data Streams by polling GetRecords, positions in the checkpoint store. */
export const kinesisPlugin: SourcePlugin = {
  kind: "kinesis",
  // Replicas split the shards by a stable replica index (shard number modulo the count), so
  // each needs its own index: `replicaIdentity: "index"` makes the operator give them one (a
  // StatefulSet ordinal). Replicas beyond the shard count idle; the API caps replicas.
  capabilities: () => ({ maxReplicas: MAX_REPLICAS, mode: "continuous", lagUnit: "ms", positions: "checkpointStore", replicaIdentity: "index" }),
  virtualColumns: KINESIS_VIRTUAL_COLUMNS,
  secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
  tables: (spec) => (spec.destination.table === undefined ? [] : [spec.destination.table]),
  format: (spec) => ({ format: kinesisSpec(spec).format }),
  probe: probeKinesis,
  open(ctx) {
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
  },
};
