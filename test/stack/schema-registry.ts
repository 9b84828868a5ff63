/**
 * A Confluent-API schema registry for the local stack: Apicurio Registry from Maven Central
 * (`io.apicurio:apicurio-registry-app`, its `all` tar.gz: the Quarkus runner jar and lib/),
 * in-memory storage (its default H2), bound to 127.0.0.1. The Confluent API is served under
 * `/apis/ccompat/v7`, which is what SCHEMA_REGISTRY_URL points at.
 *
 * Version: 3.0.9, the newest 3.x that runs on Java 17 (the JDK the stack's other Java
 * components use). 3.3.x is compiled for Java 21 (class files of release 21); it was run here
 * with a Temurin 25 JDK and works the same way, but CI machines are only promised Java 17.
 *
 * Basic auth: Quarkus' embedded properties realm ships in the app, so `quarkus.http.auth.basic`
 * with one embedded user and an `authenticated` policy on /apis/* turns it on; a request
 * without the user's credentials gets 401. Checked with curl against both 3.0.9 and 3.3.3.
 * Schemas live in memory: a restarted registry keeps its port and credentials, not its schemas.
 * With SCHEMA_REGISTRY_STORAGE=file in the environment of whoever starts it, they go to an H2
 * file under the component's state dir instead and survive a restart, like a production
 * registry's; the outage test runs its private registry that way.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, run, spawnDetached, stopProcess, waitFor } from "./process.js";

export const apicurioVersion = "3.0.9";
const pidName = "schema-registry";
const user = "registry-user";
const password = "registry-secret";
export const CCOMPAT_PATH = "/apis/ccompat/v7";

function home(ctx: StackContext): string {
  return join(ctx.cacheDir, `apicurio-registry-${apicurioVersion}`);
}

function runnerJar(ctx: StackContext): string {
  return join(home(ctx), `apicurio-registry-app-${apicurioVersion}-runner.jar`);
}

/** A small heap and the C1 compiler: the registry serves a handful of schemas on a shared 2-core machine. */
function javaArgs(ctx: StackContext, port: number): string[] {
  const storage = process.env.SCHEMA_REGISTRY_STORAGE === "file" ? [`-Dapicurio.datasource.url=jdbc:h2:file:${join(ctx.stateDir, pidName, "registry")}`] : [];
  return [
    ...storage,
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
    "-Dquarkus.http.host=127.0.0.1",
    `-Dquarkus.http.port=${port}`,
    "-Dquarkus.http.auth.basic=true",
    "-Dquarkus.security.users.embedded.enabled=true",
    "-Dquarkus.security.users.embedded.plain-text=true",
    `-Dquarkus.security.users.embedded.users.${user}=${password}`,
    "-Dquarkus.http.auth.permission.apis.paths=/apis/*",
    "-Dquarkus.http.auth.permission.apis.policy=authenticated",
  ];
}

/** GET subjects with the registry's credentials: 200 means the Confluent API is up and auth works. */
async function answers(url: string): Promise<boolean> {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const response = await fetch(`${url}/subjects`, { headers: { authorization: auth }, signal: AbortSignal.timeout(2_000) });
  return response.status === 200;
}

export const schemaRegistry: Component = {
  name: "schema-registry",

  async provision(ctx: StackContext): Promise<void> {
    if (existsSync(runnerJar(ctx))) return;
    const dir = home(ctx);
    const download = `${dir}.download`;
    rmSync(download, { recursive: true, force: true });
    mkdirSync(download, { recursive: true });
    ctx.log(`schema-registry: downloading Apicurio Registry ${apicurioVersion} (~150 MB) from Maven Central`);
    const artifact = `io.apicurio:apicurio-registry-app:${apicurioVersion}:tar.gz:all`;
    const t0 = Date.now();
    // mvn -q prints nothing while it downloads; say every few seconds that it is still going.
    const ticker = setInterval(() => ctx.log(`schema-registry: still downloading (${Math.round((Date.now() - t0) / 1000)} s)`), 5_000);
    try {
      await run("mvn", ["-B", "-q", "dependency:copy", `-Dartifact=${artifact}`, `-DoutputDirectory=${download}`]);
    } finally {
      clearInterval(ticker);
    }
    const tarball = readdirSync(download).find((f) => f.endsWith(".tar.gz"));
    if (tarball === undefined) throw new Error(`schema-registry: mvn dependency:copy left no tar.gz in ${download}`);
    ctx.log("schema-registry: unpacking");
    await run("tar", ["xzf", join(download, tarball), "-C", download]);
    rmSync(join(download, tarball));
    rmSync(dir, { recursive: true, force: true });
    renameSync(download, dir);
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const port = await previousPortOrFree(ctx.previous?.SCHEMA_REGISTRY_URL);
    const url = `http://127.0.0.1:${port}${CCOMPAT_PATH}`;
    const pid = spawnDetached(ctx, pidName, "java", [...javaArgs(ctx, port), "-jar", runnerJar(ctx)], { cwd: home(ctx) });
    await waitFor(
      `Apicurio Registry on ${url}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`schema-registry: the JVM exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
        try {
          return await answers(url);
        } catch {
          return false;
        }
      },
      120_000,
      300,
    );
    ctx.log(`schema-registry: Apicurio Registry ${apicurioVersion} on ${url} (basic auth ${user})`);
    return {
      SCHEMA_REGISTRY_URL: url,
      SCHEMA_REGISTRY_USER: user,
      SCHEMA_REGISTRY_PASSWORD: password,
      SCHEMA_REGISTRY_VERSION: apicurioVersion,
    };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const url = env.SCHEMA_REGISTRY_URL;
    if (url === undefined || !isAlive(readPid(ctx, pidName))) return false;
    try {
      return await answers(url);
    } catch {
      return false;
    }
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 10_000);
  },
};
