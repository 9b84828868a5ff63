/**
 * The chDB native addon, loaded directly: its connection-level calls take query parameters
 * as the engine's own text form (exactly what arrives in `param_*`), and take an INSERT's
 * data as a Buffer without copying it into a JS string.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { chdbPackageDir } from "../chdb-install.js";
import { cacheDir } from "../env.js";

export type NativeConnection = object;

export interface NativeResult {
  readonly bytes: Uint8Array;
  readonly elapsed: number;
  readonly rowsRead: number;
  readonly bytesRead: number;
}

export interface NativeInsertResult {
  readonly elapsed: number;
  readonly rowsWritten: number;
  readonly bytesWritten: number;
}

export interface ChdbNative {
  CreateConnection(path: string, args?: readonly string[]): NativeConnection;
  CloseConnection(conn: NativeConnection): void;
  QueryAsyncConnection(conn: NativeConnection, sql: string, format: string, params?: Record<string, string>): Promise<NativeResult>;
  InsertRawAsyncConnection(conn: NativeConnection, prefix: string, data: Buffer, countLines: boolean): Promise<NativeInsertResult>;
}

interface Loader {
  loadNative(): ChdbNative;
}

/** Loads the addon from the stack cache, where the clickhouse component installs chdb (see chdb-install.ts). */
export function loadChdb(): ChdbNative {
  const root = chdbPackageDir(cacheDir);
  const require = createRequire(join(root, "package.json"));
  const loader = require(join(root, "dist", "loader.js")) as Loader;
  return loader.loadNative();
}
