import { MAX_REPLICAS, secretReferences } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import { lazyFunction, lazySource } from "../lazy.js";
import type { SourcePlugin } from "../plugin.js";
import { KINESIS_VIRTUAL_COLUMNS } from "./virtual-columns.js";

/** Amazon Kinesis Data Streams by polling GetRecords, positions in the checkpoint store. The AWS SDK loads on first use. */
export const kinesisPlugin: SourcePlugin = {
  kind: "kinesis",
  // Replicas split the shards by a stable replica index (shard number modulo the count), so
  // each needs its own index: `replicaIdentity: "index"` makes the operator give them one (a
  // StatefulSet ordinal). Replicas beyond the shard count idle; the API caps replicas.
  capabilities: () => ({ maxReplicas: MAX_REPLICAS, mode: "continuous", lagUnit: "ms", positions: "checkpointStore", replicaIdentity: "index" }),
  virtualColumns: KINESIS_VIRTUAL_COLUMNS,
  secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
  tables: (spec) => (spec.destination.table === undefined ? [] : [spec.destination.table]),
  format: (spec) => {
    if (spec.source.kinesis === undefined) throw new ConfigError("the Kinesis plugin was given a pipe without spec.source.kinesis");
    return { format: spec.source.kinesis.format };
  },
  probe: lazyFunction(async () => (await import("./probe.js")).probeKinesis),
  open: (ctx) => lazySource(async () => (await import("./open.js")).openKinesis(ctx)),
};
