/**
 * ClickHouse for the local stack: the project's HTTP front over the chDB engine (npm `chdb`,
 * ClickHouse 26.7, installed into the stack cache by chdb-install.ts, not a project
 * dependency), bound to 127.0.0.1. Data, users and the admin password live under
 * `.stack/clickhouse/`, so a stopped or killed front comes back with its tables.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureChdb } from "./chdb-install.js";
import type { Component, StackContext } from "./component.js";
import { frontCommand, frontEnv, pingFront } from "./clickhouse-front/launch.js";
import { isAlive, previousPortOrFree, readPid, spawnDetached, stopProcess, waitFor } from "./process.js";

const pidName = "clickhouse";
const ADMIN_USER = "default";

function frontDir(ctx: StackContext): string {
  return join(ctx.stateDir, "clickhouse");
}

/** The admin password: generated once, then kept in the state dir so restarts keep it. */
function adminPassword(ctx: StackContext): string {
  const file = join(frontDir(ctx), "admin-password");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = randomBytes(12).toString("base64url");
  mkdirSync(frontDir(ctx), { recursive: true });
  writeFileSync(file, password + "\n", { mode: 0o600 });
  return password;
}


function logTail(ctx: StackContext): string {
  const file = join(ctx.stateDir, "logs", `${pidName}.log`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
}

export const clickhouse: Component = {
  name: "clickhouse",

  provision(ctx: StackContext): Promise<void> {
    // The engine ships in the chdb npm package (with @chdb/lib-<platform>), installed into the cache, not the product's lock.
    ensureChdb(ctx.cacheDir, (m) => ctx.log(m));
    ctx.log("clickhouse: chDB engine available");
    return Promise.resolve();
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const port = await previousPortOrFree(ctx.previous?.CLICKHOUSE_URL);
    const password = adminPassword(ctx);
    const url = `http://127.0.0.1:${port}`;
    const { cmd, args } = frontCommand();
    const pid = spawnDetached(ctx, pidName, cmd, args, {
      env: frontEnv({ dir: frontDir(ctx), port, user: ADMIN_USER, password }),
    });
    await waitFor(
      `clickhouse front on ${url}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`front exited during startup; log tail:\n${logTail(ctx)}`);
        return pingFront(url);
      },
      60_000,
      100,
    );
    return { CLICKHOUSE_URL: url, CLICKHOUSE_USER: ADMIN_USER, CLICKHOUSE_PASSWORD: password };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const url = env.CLICKHOUSE_URL;
    return url !== undefined && isAlive(readPid(ctx, pidName)) && (await pingFront(url));
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 10_000);
  },
};
