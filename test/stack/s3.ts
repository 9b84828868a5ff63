/**
 * S3 for the local stack: versitygw (Apache-2.0; MinIO is AGPL) built from the Go module
 * proxy into the cache by object-store-build.sh, serving a POSIX directory on 127.0.0.1
 * with one root account. DigitalOcean Spaces speaks the same API and is tested against it.
 * ClickHouse's s3() reads from it with path-style URLs and SigV4
 * (test/integration/object-storage-stack.test.ts).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { goServerBinary, provisionGoServer } from "./object-store-go.js";
import { isAlive, previousPortOrFree, readPid, spawnDetached, stopProcess, waitFor } from "./process.js";

const pidName = "s3";
const NAME = "versitygw";
export const VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw@v1.8.0";
const ACCESS_KEY_ID = "clickpipes";
const SECRET_ACCESS_KEY = "clickpipes-secret";

/** Any answer on the root (a 403 without credentials included) means the gateway listens. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

export const s3: Component = {
  name: "s3",

  provision(ctx: StackContext): Promise<void> {
    return provisionGoServer(ctx, NAME, VERSITYGW_MODULE);
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const dir = join(ctx.stateDir, "s3", "data");
    mkdirSync(dir, { recursive: true });
    const port = await previousPortOrFree(ctx.previous?.S3_ENDPOINT);
    const endpoint = `http://127.0.0.1:${port}`;
    const pid = spawnDetached(ctx, pidName, goServerBinary(ctx, NAME, VERSITYGW_MODULE), [
      "--access",
      ACCESS_KEY_ID,
      "--secret",
      SECRET_ACCESS_KEY,
      "--port",
      `127.0.0.1:${port}`,
      "posix",
      dir,
    ]);
    await waitFor(
      `versitygw on ${endpoint}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`versitygw exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
        return answers(endpoint);
      },
      30_000,
      100,
    );
    ctx.log(`s3: versitygw on ${endpoint} (data in ${dir})`);
    return { S3_ENDPOINT: endpoint, S3_ACCESS_KEY_ID: ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const endpoint = env.S3_ENDPOINT;
    return endpoint !== undefined && isAlive(readPid(ctx, pidName)) && (await answers(endpoint));
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 5_000);
  },
};
