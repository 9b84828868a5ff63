import { MAX_REPLICAS, SecretKeys, defaultConsumerGroup, pipeId, secretReferences, splitList, type ClickPipeSpec } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import type { SourcePlugin } from "../plugin.js";
import { kafkaClientConfig } from "./config.js";
import { ExactlyOnceFence } from "./exactly-once.js";
import { probeKafka } from "./probe.js";
import { KafkaRecordSource } from "./source.js";
import { KAFKA_VIRTUAL_COLUMNS } from "./virtual-columns.js";

function kafkaSpec(spec: Pick<ClickPipeSpec, "source">): NonNullable<ClickPipeSpec["source"]["kafka"]> {
  const kafka = spec.source.kafka;
  if (kafka === undefined) throw new ConfigError("the Kafka plugin was given a pipe without spec.source.kafka");
  return kafka;
}

/** Kafka and its kin (Confluent, MSK, Event Hubs, Redpanda, WarpStream) through a kafkajs consumer group. */
export const kafkaPlugin: SourcePlugin = {
  kind: "kafka",
  // Partitions are shared by the consumer group, so replicas beyond the partition count idle; the API caps replicas.
  capabilities: () => ({ maxReplicas: MAX_REPLICAS, mode: "continuous", lagUnit: "records", positions: "source", replicaIdentity: "none" }),
  virtualColumns: KAFKA_VIRTUAL_COLUMNS,
  secretReferences: (spec) => secretReferences(spec).filter((r) => r.path.startsWith("spec.source.")),
  tables: (spec) => (spec.destination.table === undefined ? [] : [spec.destination.table]),
  format(spec, secrets) {
    const kafka = kafkaSpec(spec);
    const registry = kafka.schemaRegistry;
    // Options present: the core decodes the bytes in this format (sources without them hand over JSON).
    const options = { options: kafka.formatOptions ?? {} };
    if (kafka.format === "JSONEachRow") return { format: "JSONEachRow" };
    if (registry === undefined) return { format: kafka.format, ...options };
    const creds = registry.credentialsSecretRef;
    return {
      format: kafka.format,
      ...options,
      schemaRegistry: {
        url: registry.url,
        ...(creds === undefined ? {} : { username: secrets.get(creds.name, SecretKeys.username), password: secrets.get(creds.name, SecretKeys.password) }),
      },
    };
  },
  probe: probeKafka,
  open(ctx) {
    const kafka = kafkaSpec(ctx.pipe.spec);
    const { metadata, spec } = ctx.pipe;
    const exactlyOnce = spec.settings.exactlyOnce
      ? new ExactlyOnceFence(ctx.checkpoints, { database: spec.destination.database, table: spec.destination.table ?? "", pipe: pipeId(ctx.pipe), topics: splitList(kafka.topics) })
      : undefined;
    return new KafkaRecordSource({
      spec: kafka,
      client: kafkaClientConfig(kafka, ctx.secrets, `clickpipes-${metadata.namespace ?? "default"}-${metadata.name}`),
      groupId: kafka.consumerGroup ?? defaultConsumerGroup(ctx.pipe),
      logger: ctx.logger,
      onFatal: ctx.onFatal,
      ...(exactlyOnce === undefined ? {} : { exactlyOnce }),
    });
  },
};
