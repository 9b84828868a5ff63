import { createHash } from "node:crypto";
import { join } from "node:path";
import { run } from "./process.js";

/**
 * Where the broker's class-data-sharing archive lives. A dynamic CDS archive only maps into
 * the exact JVM build and options that wrote it, so the name carries a hash of both; a JDK
 * upgrade then trains a new one instead of starting brokers with a rejected archive.
 */
export async function cdsArchivePath(kafkaHome: string, jvmOptions: readonly string[]): Promise<string> {
  const javaVersion = await run("java", ["-version"]);
  const key = createHash("sha256").update(javaVersion).update(jvmOptions.join(" ")).digest("hex").slice(0, 12);
  return join(kafkaHome, `broker-${key}.jsa`);
}

/**
 * True when the JVM maps the archive for this classpath. A truncated archive crashes the JVM
 * even under -Xshare:auto (SIGBUS, seen with JDK 17), so only a checked one may be used;
 * `cwd` receives the crash report if there is one.
 */
export async function cdsArchiveUsable(archive: string, classpath: string, jvmOptions: readonly string[], cwd: string): Promise<boolean> {
  try {
    await run("java", [...jvmOptions, "-Xshare:on", `-XX:SharedArchiveFile=${archive}`, "-cp", classpath, "-version"], { cwd });
    return true;
  } catch (err) {
    if (err instanceof Error && /exited/.test(err.message)) return false;
    throw err;
  }
}
