/**
 * Azure Blob Storage for the local stack: Azurite (MIT, an npm devDependency), blob service
 * only, in memory, on 127.0.0.1, with its well-known development account. Objects live in
 * memory: a restarted Azurite keeps its port, not its containers.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, spawnDetached, stopProcess, waitFor } from "./process.js";

const pidName = "azure";
/** Azurite's published development account (not a secret: every Azurite has it). */
const ACCOUNT = "devstoreaccount1";
const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

function azuriteBlobMain(): string {
  const pkg = createRequire(import.meta.url).resolve("azurite/package.json");
  return join(dirname(pkg), "dist", "src", "blob", "main.js");
}

export function azureConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};BlobEndpoint=${blobEndpoint}/${ACCOUNT};`;
}

/** Azurite answers any request on its port (an error document without a valid path). */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(`${endpoint}/${ACCOUNT}?comp=list`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

function endpointOf(connectionString: string | undefined): string | undefined {
  const match = /BlobEndpoint=(http:\/\/[^/;]+)/.exec(connectionString ?? "");
  return match?.[1];
}

export const azure: Component = {
  name: "azure",

  provision(ctx: StackContext): Promise<void> {
    // A devDependency: nothing to download, only check it is installed.
    try {
      azuriteBlobMain();
      ctx.log("azure: azurite available");
    } catch (err) {
      ctx.log(`azure: the azurite package is missing; run \`npm ci\` (${err instanceof Error ? err.message : String(err)})`);
    }
    return Promise.resolve();
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const port = await previousPortOrFree(endpointOf(ctx.previous?.AZURE_BLOB_CONNECTION_STRING));
    const endpoint = `http://127.0.0.1:${port}`;
    // Azurite writes its debug log and extent metadata under the working directory.
    const workspace = join(ctx.stateDir, "azure");
    mkdirSync(workspace, { recursive: true });
    const pid = spawnDetached(ctx, pidName, process.execPath, [
      azuriteBlobMain(),
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--inMemoryPersistence",
      "--skipApiVersionCheck",
      "--loose",
    ], { cwd: workspace });
    await waitFor(
      `azurite on ${endpoint}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`azurite exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
        return answers(endpoint);
      },
      30_000,
      100,
    );
    ctx.log(`azure: azurite blob service on ${endpoint}`);
    return { AZURE_BLOB_CONNECTION_STRING: azureConnectionString(endpoint) };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const endpoint = endpointOf(env.AZURE_BLOB_CONNECTION_STRING);
    return endpoint !== undefined && isAlive(readPid(ctx, pidName)) && (await answers(endpoint));
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 5_000);
  },
};
