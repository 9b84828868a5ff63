/**
 * Bounded parallelism for the initial load: `snapshotNumberOfParallelTables` tables at once,
 * `initialLoadParallelism` partitions of each table at once. The first failure stops new
 * work and is rethrown once the running tasks settle (their rows are not committed).
 */

/** Runs `task` over `items` with at most `limit` at once; rejects with the first failure. */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && signal?.aborted !== true && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(typeof failure === "string" ? failure : JSON.stringify(failure));
}
