import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StackContext } from "./component.js";

const log4jVersion = "2.24.3";
// log4j-slf4j2-impl needs the 2.x API; Maven's nearest-wins otherwise picks a 1.7 one from a transitive dependency.
const slf4jVersion = "2.0.17";

export function buildPom(kafkaVersion: string): string {
  const dep = (g: string, a: string, v: string): string =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return [
    `<project xmlns="http://maven.apache.org/POM/4.0.0">`,
    `  <modelVersion>4.0.0</modelVersion>`,
    `  <groupId>local.clickpipes</groupId><artifactId>kafka-stack</artifactId><version>1</version><packaging>pom</packaging>`,
    `  <dependencies>`,
    dep("org.apache.kafka", "kafka_2.13", kafkaVersion),
    dep("org.apache.kafka", "kafka-tools", kafkaVersion),
    dep("org.apache.logging.log4j", "log4j-core", log4jVersion),
    dep("org.apache.logging.log4j", "log4j-slf4j2-impl", log4jVersion),
    dep("org.slf4j", "slf4j-api", slf4jVersion),
    `  </dependencies>`,
    `</project>`,
    ``,
  ].join("\n");
}

/** `<cache>/kafka-<version>/lib`, complete once its marker exists. */
export function kafkaLibDir(ctx: StackContext, kafkaVersion: string): string {
  return join(ctx.cacheDir, `kafka-${kafkaVersion}`, "lib");
}

/** Download the broker's jars (and their runtime closure) from Maven Central into the cache, once. */
export async function provisionKafkaJars(ctx: StackContext, kafkaVersion: string): Promise<string> {
  const home = join(ctx.cacheDir, `kafka-${kafkaVersion}`);
  const lib = join(home, "lib");
  const marker = join(home, "lib.complete");
  if (existsSync(marker)) return lib;
  rmSync(lib, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "pom.xml"), buildPom(kafkaVersion));
  ctx.log(`kafka: downloading Kafka ${kafkaVersion} jars from Maven Central into ${lib}`);
  const t0 = Date.now();
  await runMaven(ctx, home, lib);
  const jars = readdirSync(lib).filter((f) => f.endsWith(".jar")).length;
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  ctx.log(`kafka: ${jars} jars ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return lib;
}

/** Maven prints nothing useful for minutes on a cold cache; count its downloads and report every few seconds. */
function runMaven(ctx: StackContext, cwd: string, lib: string): Promise<void> {
  const args = ["-B", "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${lib}`];
  return new Promise((resolve, reject) => {
    const child = spawn("mvn", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let downloads = 0;
    const onData = (d: Buffer): void => {
      const text = d.toString();
      output = (output + text).slice(-20_000);
      downloads += text.match(/Downloaded from/g)?.length ?? 0;
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const t0 = Date.now();
    const ticker = setInterval(() => {
      ctx.log(`kafka: maven still resolving (${Math.round((Date.now() - t0) / 1000)} s, ${downloads} files downloaded)`);
    }, 4000);
    child.on("error", (err) => {
      clearInterval(ticker);
      reject(new Error(`kafka: cannot run mvn (is Maven installed?): ${err.message}`));
    });
    child.on("close", (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`kafka: mvn dependency:copy-dependencies exited ${code} in ${cwd}:\n${output.slice(-4000)}`));
    });
  });
}
