/**
 * The ClickHouse HTTP front: a ClickHouse-compatible HTTP endpoint over the chDB engine.
 *
 *   CH_FRONT_DIR=.stack/clickhouse CH_FRONT_PORT=8123 CLICKHOUSE_USER=default \
 *   CLICKHOUSE_PASSWORD=secret node --import tsx test/stack/clickhouse-front/server.ts
 *
 * CH_FRONT_DIR holds the engine's data (`data/`), its users.xml and config.xml, and the
 * front's access state (`access.json`), so a killed front restarts with its tables and users.
 */
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AccessControl, usersXml, type AccessSnapshot } from "./access.js";
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

function engineConfig(usersXmlPath: string): string {
  return `<clickhouse>\n<user_directories><users_xml><path>${usersXmlPath}</path></users_xml></user_directories>\n</clickhouse>\n`;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const dir = resolve(required("CH_FRONT_DIR"));
  const port = Number(required("CH_FRONT_PORT"));
  const adminUser = process.env.CLICKHOUSE_USER || "default";
  const adminPassword = required("CLICKHOUSE_PASSWORD");
  const poolSize = Number(process.env.CH_FRONT_POOL ?? "3");
  const dataDir = join(dir, "data");
  mkdirSync(dataDir, { recursive: true });

  const accessFile = join(dir, "access.json");
  const usersFile = join(dir, "users.xml");
  const configFile = join(dir, "config.xml");
  const snapshot = existsSync(accessFile) ? (JSON.parse(readFileSync(accessFile, "utf8")) as AccessSnapshot) : undefined;
  const access = new AccessControl(adminUser, adminPassword, snapshot);
  writeAtomic(usersFile, usersXml(access));
  writeAtomic(configFile, engineConfig(usersFile));

  const engine = new Engine(loadChdb(), dataDir, [`--config-file=${configFile}`], serverDefaults(), poolSize);
  await engine.open();
  const sessions = new Sessions(engine);

  let accessChain: Promise<void> = Promise.resolve();
  const applyAccess = (sql: string, user: string): Promise<void> => {
    const run = async (): Promise<void> => {
      const before = access.snapshot();
      const change = access.apply(sql, user);
      try {
        writeAtomic(usersFile, usersXml(access));
        await engine.admin("SYSTEM RELOAD USERS");
      } catch (err) {
        access.restore(before);
        writeAtomic(usersFile, usersXml(access));
        throw err;
      }
      writeAtomic(accessFile, JSON.stringify(access.snapshot(), null, 2));
      log(`access: ${change.summary}`);
    };
    const result = accessChain.then(run);
    accessChain = result.catch(() => undefined);
    return result;
  };

  const ctx: FrontContext = { engine, sessions, access, applyAccess, log };
  const server = createServer({ keepAliveTimeout: 10_000, requestTimeout: 0 }, frontHandler(ctx));
  server.listen(port, "127.0.0.1", () => log(`clickhouse front ${engine.version} on http://127.0.0.1:${port} (data ${dataDir}) ready in ${Date.now() - t0} ms`));

  const shutdown = (): void => {
    log("shutting down");
    server.close();
    sessions.closeAll();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`clickhouse front failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
