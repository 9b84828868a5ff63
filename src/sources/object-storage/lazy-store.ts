/**
 * A store whose SDK is loaded on first use. Each store's SDK (AWS S3, Google Cloud Storage,
 * Azure Blob) costs tens of megabytes and a good part of a CPU-second to load; a pipe uses
 * one store, and a consumer of another source none, so the registry importing this plugin
 * must not load them all.
 */
import { loadOnce } from "../lazy.js";
import type { ObjectInfo, ObjectStore, PullRequest, TableFunction } from "./store.js";

export function lazyStore(load: () => Promise<ObjectStore>): ObjectStore {
  const once = loadOnce(load);
  const store = once.get;
  return {
    async *list(prefix: string, signal: AbortSignal): AsyncIterable<ObjectInfo> {
      yield* (await store()).list(prefix, signal);
    },
    read: async (key: string, signal: AbortSignal): Promise<NodeJS.ReadableStream> => (await store()).read(key, signal),
    tableFunction: async (req: PullRequest): Promise<TableFunction | undefined> => (await store()).tableFunction(req),
    check: async (prefix: string, signal: AbortSignal): Promise<void> => (await store()).check(prefix, signal),
    close: (): void => once.loaded()?.close(),
  };
}
