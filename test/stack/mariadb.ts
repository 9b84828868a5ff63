/**
 * MariaDB for the local stack: Debian's mariadb-server 10.11 (`mariadbd`, installed by the
 * system's package manager, never downloaded by us), started as a child process bound to
 * 127.0.0.1 with the settings a MySQL CDC source needs: row-based binlog with full row
 * images and full row metadata, and strict GTIDs. Data, the socket, the TLS files and the replication user live
 * under `.stack/mariadb/`, so a restarted server keeps its port, its data and its binlog
 * (tests restart it to prove the pipe resumes).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, run, spawnDetached, stopProcess, waitFor } from "./process.js";

const pidName = "mariadb";
const USER = "clickpipes";
const MARIADBD = "/usr/sbin/mariadbd";

function dir(ctx: StackContext): string {
  return join(ctx.stateDir, "mariadb");
}

interface Paths {
  readonly data: string;
  readonly socket: string;
  readonly tls: string;
  readonly ca: string;
}

function paths(ctx: StackContext): Paths {
  const base = dir(ctx);
  return { data: join(base, "data"), socket: join(base, "mariadb.sock"), tls: join(base, "tls"), ca: join(base, "tls", "ca.pem") };
}

/** The replication user's password: generated once and kept, so restarts and earlier env files agree. */
function password(ctx: StackContext): string {
  const file = join(dir(ctx), "user-password");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dir(ctx), { recursive: true });
  const value = randomBytes(12).toString("base64url");
  writeFileSync(file, value + "\n", { mode: 0o600 });
  return value;
}

/** As root the server must be told to stay root (it refuses otherwise); as anyone else it runs as that user. */
function userArgs(): string[] {
  return process.getuid?.() === 0 ? ["--user=root"] : [];
}

/** A CA and a server certificate for 127.0.0.1/localhost, made once (tests trust ca.pem through caCertificateSecretRef). */
async function ensureTls(p: Paths): Promise<void> {
  const f = (name: string): string => join(p.tls, name);
  if (existsSync(f("server.pem")) && existsSync(p.ca)) return;
  mkdirSync(p.tls, { recursive: true });
  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", p.ca, "-days", "3650", "-subj", "/CN=clickpipes-stack-mariadb-ca"]);
  writeFileSync(f("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=localhost"]);
  await run("openssl", ["x509", "-req", "-in", f("server.csr"), "-CA", p.ca, "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.pem"), "-days", "3650", "-extfile", f("server.ext")]);
}

/**
 * The all-privilege account mariadb-install-db made for whoever ran it (root, or the OS user
 * of a CI job), authenticated by unix_socket: no password.
 */
export function adminUser(): string {
  return process.getuid?.() === 0 ? "root" : userInfo().username;
}

/** The mariadb client over the socket as the admin account, for setup statements. */
function rootSql(p: Paths, sql: string): Promise<string> {
  return run("mariadb", ["--no-defaults", `-u${adminUser()}`, `--socket=${p.socket}`, "-N", "-e", sql]);
}

async function initialise(ctx: StackContext, p: Paths): Promise<void> {
  if (existsSync(join(p.data, "mysql"))) return;
  ctx.log("mariadb: initialising the data directory (mariadb-install-db)");
  mkdirSync(p.data, { recursive: true });
  await run("mariadb-install-db", ["--no-defaults", `--datadir=${p.data}`, "--auth-root-authentication-method=socket", "--skip-test-db", ...userArgs()]);
}

function serverArgs(p: Paths, port: number): string[] {
  return [
    "--no-defaults",
    ...userArgs(),
    `--datadir=${p.data}`,
    `--socket=${p.socket}`,
    `--pid-file=${join(p.data, "mariadbd.pid")}`,
    "--bind-address=127.0.0.1",
    `--port=${port}`,
    "--log-bin=mariadb-bin",
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    // Column names and types in every TableMap event, as the CDC source's setup check asks.
    "--binlog-row-metadata=FULL",
    "--gtid-strict-mode=ON",
    "--server-id=1",
    // Test speed, not durability: a kill -9 of the server is not a test of InnoDB's fsync.
    "--innodb-flush-log-at-trx-commit=0",
    "--sync-binlog=0",
    "--innodb-buffer-pool-size=256M",
    "--max-connections=200",
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
    `--ssl-ca=${p.ca}`,
    `--ssl-cert=${join(p.tls, "server.pem")}`,
    `--ssl-key=${join(p.tls, "server.key")}`,
  ];
}

async function createUser(p: Paths, pass: string): Promise<void> {
  const quoted = pass.replaceAll("'", "''");
  await rootSql(
    p,
    [
      `CREATE USER IF NOT EXISTS '${USER}'@'%' IDENTIFIED BY '${quoted}'`,
      `ALTER USER '${USER}'@'%' IDENTIFIED BY '${quoted}'`,
      // REPLICATION SLAVE/CLIENT to read the binlog; SELECT and RELOAD for the snapshot;
      // the rest so tests can create and change their own source tables with this user.
      `GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR, CREATE, DROP, ALTER, INSERT, UPDATE, DELETE, INDEX, LOCK TABLES ON *.* TO '${USER}'@'%'`,
    ].join("; "),
  );
}

function logTail(ctx: StackContext): string {
  const file = join(ctx.stateDir, "logs", `${pidName}.log`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
}

async function answers(p: Paths): Promise<boolean> {
  return (await rootSql(p, "SELECT 1")).trim() === "1";
}

export const mariadb: Component = {
  name: "mariadb",

  async provision(ctx: StackContext): Promise<void> {
    // A Debian package (`.ci/run` installs mariadb-server); nothing to download here.
    if (!existsSync(MARIADBD)) throw new Error(`mariadb: ${MARIADBD} is missing; install Debian's mariadb-server (10.11)`);
    await ensureTls(paths(ctx));
    ctx.log("mariadb: mariadbd available");
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const p = paths(ctx);
    await initialise(ctx, p);
    const port = await previousPortOrFree(ctx.previous?.MYSQL_URL);
    const pass = password(ctx);
    const pid = spawnDetached(ctx, pidName, MARIADBD, serverArgs(p, port));
    await waitFor(
      `mariadbd on 127.0.0.1:${port}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`mariadbd exited during startup; log tail:\n${logTail(ctx)}`);
        return answers(p);
      },
      60_000,
      200,
    );
    await createUser(p, pass);
    ctx.log(`mariadb: MariaDB on 127.0.0.1:${port} (binlog ROW/FULL, GTID strict)`);
    return {
      MYSQL_URL: `mysql://${USER}:${encodeURIComponent(pass)}@127.0.0.1:${port}`,
      MYSQL_HOST: "127.0.0.1",
      MYSQL_PORT: String(port),
      MYSQL_USER: USER,
      MYSQL_PASSWORD: pass,
      MYSQL_CA_FILE: p.ca,
      MYSQL_SOCKET: p.socket,
    };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    if (env.MYSQL_URL === undefined || !isAlive(readPid(ctx, pidName))) return false;
    try {
      return await answers(paths(ctx));
    } catch {
      return false;
    }
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 30_000);
  },
};
