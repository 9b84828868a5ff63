/**
 * Sources whose libraries load on first use. A consumer runs one source, but the registry
 * imports every plugin; a plugin that imports its SDK at the top (AWS, Google, Azure,
 * database drivers) makes every consumer pay its load time and memory. A plugin keeps its
 * descriptor (capabilities, tables, secrets) light and opens its source through these.
 */
import type { Checkpoint, RecordSink, Source } from "../ingest/source.js";

/** `load` run at most once: `get()` starts it, `loaded()` is its value once it has one. */
export function loadOnce<T>(load: () => Promise<T>): { readonly get: () => Promise<T>; readonly loaded: () => T | undefined; readonly started: () => Promise<T> | undefined } {
  let loading: Promise<T> | undefined;
  let value: T | undefined;
  return {
    get: () => (loading ??= load().then((v) => (value = v))),
    loaded: () => value,
    started: () => loading,
  };
}

/** A Source that loads (and constructs) the real one when it starts. */
export function lazySource(load: () => Promise<Source>): Source {
  const once = loadOnce(load);
  const source = once.get;
  return {
    start: async (sink: RecordSink): Promise<void> => (await source()).start(sink),
    stopDelivering: async (): Promise<void> => once.loaded()?.stopDelivering(),
    // Positions exist only for records the loaded source delivered.
    commit: async (checkpoints: readonly Checkpoint[]): Promise<void> => once.loaded()?.commit(checkpoints),
    lag: async (): Promise<Map<string, number>> => once.loaded()?.lag() ?? new Map(),
    close: async (): Promise<void> => {
      const loading = once.started();
      if (loading === undefined) return;
      await (await loading).close();
    },
  };
}

/** A function whose module loads on its first call (an operator probe). */
export function lazyFunction<A extends unknown[], R>(load: () => Promise<(...args: A) => Promise<R>>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => (await load())(...args);
}
