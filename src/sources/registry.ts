/**
 * The one map from a spec's source kind to its plugin. The core, the CLI and the operator
 * find sources here and nowhere else; a kind without a plugin is accepted by the API and
 * reported as SourceNotSupported.
 */
import { sourceKind, type ClickPipeSpec, type SourceKind } from "../api/index.js";
import { kafkaPlugin } from "./kafka/plugin.js";
import { kinesisPlugin } from "./kinesis/plugin.js";
import { mysqlPlugin } from "./mysql/plugin.js";
import { objectStoragePlugin } from "./object-storage/plugin.js";
import { postgresPlugin } from "./postgres/plugin.js";
import type { SourcePlugin } from "./plugin.js";

const plugins = new Map<SourceKind, SourcePlugin>([[kafkaPlugin.kind, kafkaPlugin], [kinesisPlugin.kind, kinesisPlugin], [objectStoragePlugin.kind, objectStoragePlugin], [mysqlPlugin.kind, mysqlPlugin], [postgresPlugin.kind, postgresPlugin]]);

/** The plugin of a spec's source, if this build ingests it. */
export function sourcePlugin(spec: Pick<ClickPipeSpec, "source">): SourcePlugin | undefined {
  return plugins.get(sourceKind(spec));
}

/** Source kinds this build ingests, in registration order. */
export function ingestedKinds(): SourceKind[] {
  return [...plugins.keys()];
}

/**
 * Adds or replaces a plugin and returns a function that restores what was there before.
 * For tests that run the real pipeline with a source of their own.
 */
export function registerPlugin(plugin: SourcePlugin): () => void {
  const before = plugins.get(plugin.kind);
  plugins.set(plugin.kind, plugin);
  return () => {
    if (before === undefined) plugins.delete(plugin.kind);
    else plugins.set(plugin.kind, before);
  };
}
