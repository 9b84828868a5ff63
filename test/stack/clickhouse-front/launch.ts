/** How to run the front as a process, shared by the stack component and tests that start their own instance. */
import { fileURLToPath } from "node:url";

export const frontServerPath = fileURLToPath(new URL("./server.ts", import.meta.url));

/** `node --import tsx server.ts` (run with the repository root as cwd so `tsx` resolves). */
export function frontCommand(): { cmd: string; args: string[] } {
  return { cmd: process.execPath, args: ["--import", "tsx", frontServerPath] };
}

export interface FrontEnvOptions {
  readonly dir: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export function frontEnv(o: FrontEnvOptions): Record<string, string> {
  return {
    CH_FRONT_DIR: o.dir,
    CH_FRONT_PORT: String(o.port),
    CLICKHOUSE_USER: o.user,
    CLICKHOUSE_PASSWORD: o.password,
    // chDB runs every query on libuv's pool; the default 4 threads would let a few slow queries starve file I/O.
    UV_THREADPOOL_SIZE: "16",
  };
}

/** True when GET /ping answers `Ok.`. */
export async function pingFront(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(new URL("/ping", url), { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.text()) === "Ok.\n";
  } catch {
    return false;
  }
}
