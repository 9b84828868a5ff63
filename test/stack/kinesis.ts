/**
 * Kinesis for the local stack: kinesalite (npm, pure JavaScript, in memory) bound to
 * 127.0.0.1. Chosen over kinesis-local (kinesis-mock) because it runs in this Node process
 * family with nothing to download and implements what the tests need: ListShards,
 * GetShardIterator (TRIM_HORIZON, LATEST, AT_TIMESTAMP, AFTER_SEQUENCE_NUMBER), GetRecords
 * with MillisBehindLatest, SplitShard and MergeShards with parent ids. It has no enhanced
 * fan-out (RegisterStreamConsumer, SubscribeToShard) and ignores ListShards' MaxResults.
 * Streams live in memory: a restarted emulator keeps its port, not its streams.
 */
import { createRequire } from "node:module";
import { KinesisClient, ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, spawnDetached, stopProcess, waitFor } from "./process.js";

const pidName = "kinesis";
const REGION = "us-east-1";

/** The emulator's own server on 127.0.0.1 (its CLI listens on every interface). Short state delays keep resharding tests quick. */
const LAUNCHER = `
const kinesalite = require(process.env.KINESALITE_MODULE);
const server = kinesalite({ createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50, shardLimit: 10000 });
server.listen(Number(process.env.KINESIS_PORT), "127.0.0.1", () => console.log("kinesalite listening on 127.0.0.1:" + process.env.KINESIS_PORT));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

/** A client for the emulator (any key is accepted); HTTP/1.1 because kinesalite does not speak HTTP/2. */
export function emulatorClient(endpoint: string, region = REGION): KinesisClient {
  return new KinesisClient({
    endpoint,
    region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 30_000 }),
  });
}

async function answers(endpoint: string): Promise<boolean> {
  const client = emulatorClient(endpoint);
  try {
    await client.send(new ListStreamsCommand({}), { abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } finally {
    client.destroy();
  }
}

function kinesaliteModule(): string {
  return createRequire(import.meta.url).resolve("kinesalite");
}


export const kinesis: Component = {
  name: "kinesis",

  provision(ctx: StackContext): Promise<void> {
    // A devDependency: nothing to download, only check it is installed.
    try {
      kinesaliteModule();
    } catch (err) {
      ctx.log(`kinesis: the kinesalite package is missing; run \`npm ci\` (${err instanceof Error ? err.message : String(err)})`);
      return Promise.resolve();
    }
    ctx.log("kinesis: kinesalite available");
    return Promise.resolve();
  },

  /**
   * Starts the emulator. A failure does not fail the whole stack (the other suites do not
   * need Kinesis): it is logged, no KINESIS_* env is published, and the Kinesis suites skip
   * saying why; the next `up` tries again.
   */
  async start(ctx: StackContext): Promise<Record<string, string>> {
    try {
      const port = await previousPortOrFree(ctx.previous?.KINESIS_ENDPOINT);
      const endpoint = `http://127.0.0.1:${port}`;
      const pid = spawnDetached(ctx, pidName, process.execPath, ["-e", LAUNCHER], {
        env: { KINESALITE_MODULE: kinesaliteModule(), KINESIS_PORT: String(port) },
      });
      await waitFor(
        `kinesalite on ${endpoint}`,
        async () => {
          if (!isAlive(pid)) throw new Error(`kinesalite exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
          return answers(endpoint);
        },
        30_000,
        100,
      );
      ctx.log(`kinesis: kinesalite on ${endpoint}`);
      return { KINESIS_ENDPOINT: endpoint, KINESIS_REGION: REGION };
    } catch (err) {
      ctx.log(`kinesis: the emulator did not start, Kinesis tests will be skipped: ${err instanceof Error ? err.message : String(err)}`);
      await stopProcess(ctx, pidName, 2_000);
      return {};
    }
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const endpoint = env.KINESIS_ENDPOINT;
    if (endpoint === undefined || !isAlive(readPid(ctx, pidName))) return false;
    try {
      return await answers(endpoint);
    } catch {
      return false;
    }
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 5_000);
  },
};
