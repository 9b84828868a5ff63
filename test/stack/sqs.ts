/**
 * An SQS-compatible queue server for the local stack: ElasticMQ (Apache 2.0) from Maven
 * Central (`org.elasticmq:elasticmq-server_2.13` and its dependencies, copied by
 * `mvn dependency:copy-dependencies` from a generated pom into the cache), in memory,
 * bound to 127.0.0.1. The object storage source's any-order mode (spec.source.objectStorage
 * .queueUrl) reads S3 event notifications from it; the tests post them themselves, since the
 * stack's S3 server cannot publish events.
 *
 * ElasticMQ takes any credentials and signature; SQS_REGION, SQS_ACCESS_KEY_ID and
 * SQS_SECRET_ACCESS_KEY are what the SDK needs to sign at all. Queues live in memory: a
 * restarted server keeps its port, not its queues (each test creates its own queue).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, run, spawnDetached, stopProcess, waitFor } from "./process.js";

export const elasticmqVersion = "1.7.1";
const pidName = "sqs";
const region = "elasticmq";

function home(ctx: StackContext): string {
  return join(ctx.cacheDir, `elasticmq-${elasticmqVersion}`);
}

function pom(): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>clickpipes.stack</groupId><artifactId>elasticmq</artifactId><version>1</version>
<dependencies><dependency><groupId>org.elasticmq</groupId><artifactId>elasticmq-server_2.13</artifactId><version>${elasticmqVersion}</version></dependency></dependencies>
</project>
`;
}

function config(port: number): string {
  return `include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = ${port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
aws { region = ${region}, accountId = "000000000000" }
`;
}

/** ListQueues answers: the REST API is up (false while it refuses connections). */
function answers(endpoint: string): Promise<boolean> {
  return fetch(`${endpoint}/?Action=ListQueues`, { signal: AbortSignal.timeout(2_000) }).then(
    (response) => response.status === 200,
    () => false,
  );
}

export const sqs: Component = {
  name: "sqs",

  async provision(ctx: StackContext): Promise<void> {
    if (existsSync(join(home(ctx), "lib", `elasticmq-server_2.13-${elasticmqVersion}.jar`))) return;
    const download = `${home(ctx)}.download`;
    rmSync(download, { recursive: true, force: true });
    mkdirSync(download, { recursive: true });
    writeFileSync(join(download, "pom.xml"), pom());
    ctx.log(`sqs: downloading ElasticMQ ${elasticmqVersion} and its dependencies (~40 MB) from Maven Central`);
    const t0 = Date.now();
    const ticker = setInterval(() => ctx.log(`sqs: still downloading (${Math.round((Date.now() - t0) / 1000)} s)`), 5_000);
    try {
      await run("mvn", ["-B", "-q", "-f", join(download, "pom.xml"), "dependency:copy-dependencies", `-DoutputDirectory=${join(download, "lib")}`]);
    } finally {
      clearInterval(ticker);
    }
    rmSync(home(ctx), { recursive: true, force: true });
    renameSync(download, home(ctx));
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const port = await previousPortOrFree(ctx.previous?.SQS_ENDPOINT);
    const endpoint = `http://127.0.0.1:${port}`;
    const conf = join(ctx.stateDir, "sqs.conf");
    writeFileSync(conf, config(port));
    const args = ["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", `-Dconfig.file=${conf}`, "-cp", `${join(home(ctx), "lib")}/*`, "org.elasticmq.server.Main"];
    const pid = spawnDetached(ctx, pidName, "java", args, { cwd: home(ctx) });
    await waitFor(
      `ElasticMQ on ${endpoint}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`sqs: the JVM exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
        return answers(endpoint);
      },
      90_000,
      300,
    );
    ctx.log(`sqs: ElasticMQ ${elasticmqVersion} on ${endpoint}`);
    return { SQS_ENDPOINT: endpoint, SQS_REGION: region, SQS_ACCESS_KEY_ID: "elasticmq", SQS_SECRET_ACCESS_KEY: "elasticmq" };
  },

  healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const endpoint = env.SQS_ENDPOINT;
    return endpoint !== undefined && isAlive(readPid(ctx, pidName)) ? answers(endpoint) : Promise.resolve(false);
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 10_000);
  },
};
