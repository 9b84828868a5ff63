/**
 * GCS for the local stack: fake-gcs-server (BSD-2-Clause) built from the Go module proxy into
 * the cache, in memory, plain HTTP on 127.0.0.1. It serves the JSON API the
 * @google-cloud/storage SDK speaks and object downloads by path, and accepts any
 * credentials. Objects live in memory: a restarted server keeps its port, not its buckets.
 */
import type { Component, StackContext } from "./component.js";
import { goServerBinary, provisionGoServer } from "./object-store-go.js";
import { isAlive, previousPortOrFree, readPid, spawnDetached, stopProcess, waitFor } from "./process.js";

const pidName = "gcs";
const NAME = "fake-gcs-server";
export const FAKE_GCS_MODULE = "github.com/fsouza/fake-gcs-server@v1.56.1";

async function answers(endpoint: string): Promise<boolean> {
  try {
    return (await fetch(`${endpoint}/storage/v1/b`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

export const gcs: Component = {
  name: "gcs",

  provision(ctx: StackContext): Promise<void> {
    return provisionGoServer(ctx, NAME, FAKE_GCS_MODULE);
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const port = await previousPortOrFree(ctx.previous?.GCS_ENDPOINT);
    const endpoint = `http://127.0.0.1:${port}`;
    const pid = spawnDetached(ctx, pidName, goServerBinary(ctx, NAME, FAKE_GCS_MODULE), [
      "-scheme",
      "http",
      "-host",
      "127.0.0.1",
      "-port",
      String(port),
      "-backend",
      "memory",
      "-external-url",
      endpoint,
      "-public-host",
      `127.0.0.1:${port}`,
      "-log-level",
      "warn",
    ]);
    await waitFor(
      `fake-gcs-server on ${endpoint}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`fake-gcs-server exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
        return answers(endpoint);
      },
      30_000,
      100,
    );
    ctx.log(`gcs: fake-gcs-server on ${endpoint}`);
    return { GCS_ENDPOINT: endpoint };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const endpoint = env.GCS_ENDPOINT;
    return endpoint !== undefined && isAlive(readPid(ctx, pidName)) && (await answers(endpoint));
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 5_000);
  },
};
