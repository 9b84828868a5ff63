/**
 * The ClickHouse HTTP front: a ClickHouse-compatible HTTP endpoint over the chDB engine.
 *
 *   CH_FRONT_DIR=.stack/clickhouse CH_FRONT_PORT=8123 CLICKHOUSE_USER=default \
 *   CLICKHOUSE_PASSWORD=secret node --import tsx test/stack/clickhouse-front/server.ts
 *
 * CH_FRONT_DIR holds the engine's data (`data/`) and the front's users and grants
 * (`access.json`), so a killed front restarts with its tables and users.
 */
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AccessControl, type AccessChange, type AccessSnapshot, type Actor } from "./access.js";
import { Engine } from "./engine.js";
import { frontHandler, type FrontContext } from "./http.js";
import { loadChdb } from "./native.js";
import { serverDefaults } from "./server-defaults.js";
import { Sessions } from "./sessions.js";

function required(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} must be set (see the header of clickhouse-front/server.ts)`);
  return v;
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const dir = resolve(required("CH_FRONT_DIR"));
  const port = Number(required("CH_FRONT_PORT"));
  const adminUser = process.env.CLICKHOUSE_USER || "default";
  const adminPassword = required("CLICKHOUSE_PASSWORD");
  // Sessionless queries beyond the pool wait for a connection (a server runs them at once): 8 lets a one-shot object storage pipe's 4 files and its state rows run together.
  const poolSize = Number(process.env.CH_FRONT_POOL ?? "8");
  const dataDir = join(dir, "data");
  mkdirSync(dataDir, { recursive: true });

  const accessFile = join(dir, "access.json");
  const snapshot = existsSync(accessFile) ? (JSON.parse(readFileSync(accessFile, "utf8")) as AccessSnapshot) : undefined;
  const access = new AccessControl(adminUser, adminPassword, snapshot);

  const engine = new Engine(loadChdb(), dataDir, [], serverDefaults(), poolSize);
  await engine.open();
  const sessions = new Sessions(engine);

  let accessChain: Promise<unknown> = Promise.resolve();
  const applyAccess = (sql: string, actor: Actor): Promise<AccessChange> => {
    const run = (): Promise<AccessChange> => {
      const change = access.apply(sql, actor);
      writeAtomic(accessFile, JSON.stringify(access.snapshot(), null, 2));
      log(`access: ${change.summary}`);
      return Promise.resolve(change);
    };
    const result = accessChain.then(run);
    accessChain = result.catch(() => undefined);
    return result;
  };

  const ctx: FrontContext = { engine, sessions, access, applyAccess, sessionRoles: new Map(), log };
  const server = createServer({ keepAliveTimeout: 10_000, requestTimeout: 0 }, frontHandler(ctx));
  server.listen(port, "127.0.0.1", () => log(`clickhouse front ${engine.version} on http://127.0.0.1:${port} (data ${dataDir}) ready in ${Date.now() - t0} ms`));

  // Inserts are durable once acknowledged (MergeTree parts are written before the response),
  // so there is nothing to flush: exit at once rather than wait for chDB's engine teardown,
  // which takes seconds with queries or sessions still open.
  const shutdown = (): void => {
    log("shutting down");
    server.close();
    process.kill(process.pid, "SIGKILL");
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`clickhouse front failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
