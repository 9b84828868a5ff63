/**
 * Sources whose libraries load on first use. A consumer runs one source, but the registry
 * imports every plugin; a plugin that imports its SDK at the top (AWS, Google, Azure,
 * database drivers) makes every consumer pay its load time and memory. A plugin keeps its
 * descriptor (capabilities, tables, secrets) light and opens its source through these.
 */
import type { Checkpoint, RecordSink, Source } from "../ingest/source.js";

/** A Source that loads (and constructs) the real one when it starts. */
export function lazySource(load: () => Promise<Source>): Source {
  let loading: Promise<Source> | undefined;
  let loaded: Source | undefined;
  const source = (): Promise<Source> => {
    loading ??= load().then((s) => (loaded = s));
    return loading;
  };
  return {
    start: async (sink: RecordSink): Promise<void> => (await source()).start(sink),
    stopDelivering: async (): Promise<void> => loaded?.stopDelivering(),
    // Positions exist only for records the loaded source delivered.
    commit: async (checkpoints: readonly Checkpoint[]): Promise<void> => loaded?.commit(checkpoints),
    lag: async (): Promise<Map<string, number>> => (loaded === undefined ? new Map() : loaded.lag()),
    close: async (): Promise<void> => {
      if (loading === undefined) return;
      await (await loading).close();
    },
  };
}

/** A function whose module loads on its first call (an operator probe). */
export function lazyFunction<A extends unknown[], R>(load: () => Promise<(...args: A) => Promise<R>>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => (await load())(...args);
}
