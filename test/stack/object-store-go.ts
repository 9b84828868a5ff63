/**
 * The Go test servers of the object storage stack (versitygw, fake-gcs-server): built once
 * into the cache by object-store-build.sh, whose progress lines are relayed (a cold build
 * takes minutes).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { StackContext } from "./component.js";

function version(module: string): string {
  return module.slice(module.lastIndexOf("@") + 1);
}

/** Where the built binary of `name` lives in the cache. */
export function goServerBinary(ctx: StackContext, name: string, module: string): string {
  return join(ctx.cacheDir, `${name}-${version(module)}`, "bin", name);
}

/** Runs object-store-build.sh for one server (a no-op when its stamp matches). */
export function provisionGoServer(ctx: StackContext, name: string, module: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ctx.root, "test/stack/object-store-build.sh"), name, module], {
      env: { ...process.env, CLICKPIPES_STACK_CACHE: ctx.cacheDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const onData = (d: Buffer): void => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.startsWith(`[${name}-build`)) ctx.log(line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`object-store-build.sh ${name} exited ${code}:\n${tail}`))));
  });
}
