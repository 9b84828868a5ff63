/**
 * Postgres 15 for the local stack: Debian's postgresql-15 (`/usr/lib/postgresql/15/bin`,
 * installed by the machine image and by `.ci/run`), a cluster made by initdb under
 * `.stack/postgres/`, run as the `postgres` OS user (the server refuses root) on 127.0.0.1
 * with `wal_level=logical` and `fsync=off`. Password (SCRAM) auth over TCP, and TLS on the
 * same port with a server certificate signed by a CA of our own (`POSTGRES_CA_FILE`), so
 * `caCertificateSecretRef` is tested for real. The cluster survives restarts (same port,
 * same data); only a fresh `.stack/` makes a new one.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, run, spawnDetached, stopProcess, waitFor } from "./process.js";

export const POSTGRES_BIN = "/usr/lib/postgresql/15/bin";
const pidName = "postgres";
const USER = "postgres";
const PASSWORD = "postgres-secret";

interface Layout {
  readonly dir: string;
  readonly data: string;
  readonly tls: string;
  readonly sockets: string;
}

/**
 * Whether the postgres OS user can enter `dir`. The server and initdb run as that user, so a
 * checkout under a directory only root may enter (a CI workspace of mode 0700, say) cannot hold
 * the cluster.
 */
function postgresCanEnter(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const [cmd, args] = asPostgresUser("test", ["-x", dir]);
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

function layout(ctx: StackContext): Layout {
  const home = join(ctx.stateDir, "postgres");
  // Elsewhere, a directory of its own per checkout (keyed by the state dir), so two checkouts
  // on one machine still have separate clusters; it outlives a deleted `.stack/`.
  const dir = postgresCanEnter(ctx.stateDir)
    ? home
    : join(tmpdir(), `clickpipes-stack-postgres-${createHash("sha256").update(ctx.stateDir).digest("hex").slice(0, 12)}`);
  return { dir, data: join(dir, "data"), tls: join(dir, "tls"), sockets: join(dir, "sockets") };
}

function osUser(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (line === undefined) throw new Error("no `postgres` OS user: install Debian's postgresql-15");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** A command run as the postgres OS user (setpriv execs, so the pid is the program's). */
function asPostgresUser(program: string, args: string[]): [string, string[]] {
  return ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", program, ...args]];
}

/** Runs a Postgres binary as the postgres OS user. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return asPostgresUser(join(POSTGRES_BIN, bin), args);
}

function chownTree(path: string): void {
  const { uid, gid } = osUser();
  chownSync(path, uid, gid);
}

/** A CA and a server certificate for 127.0.0.1/localhost, made once per cluster. */
async function makeTls(l: Layout): Promise<void> {
  if (existsSync(join(l.tls, "server.crt"))) return;
  mkdirSync(l.tls, { recursive: true });
  const o = (args: string[]): Promise<string> => run("openssl", args, { cwd: l.tls });
  await o(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=clickpipes-test-postgres-ca", "-keyout", "ca.key", "-out", "ca.crt"]);
  await o(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"]);
  writeFileSync(join(l.tls, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await o(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "3650", "-extfile", "san.ext", "-out", "server.crt"]);
  for (const f of ["server.key", "server.crt"]) chownTree(join(l.tls, f));
  await run("chmod", ["600", join(l.tls, "server.key")]);
  chownTree(l.tls);
}

async function initCluster(ctx: StackContext, l: Layout): Promise<void> {
  if (existsSync(join(l.data, "PG_VERSION"))) return;
  ctx.log("postgres: initdb (first start)");
  mkdirSync(l.data, { recursive: true });
  mkdirSync(l.sockets, { recursive: true });
  const pwfile = join(l.dir, "pwfile");
  writeFileSync(pwfile, `${PASSWORD}\n`);
  for (const p of [l.dir, l.data, l.sockets, pwfile]) chownTree(p);
  const [cmd, args] = asPostgres("initdb", ["-D", l.data, "-U", USER, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]);
  try {
    await run(cmd, args);
  } catch (err) {
    // Once more on a fresh directory: a first start on a busy machine is the one place a fork
    // can fail for want of resources, and a half-made cluster would fail every later start.
    ctx.log(`postgres: initdb failed, trying once more: ${err instanceof Error ? err.message : String(err)}`);
    rmSync(l.data, { recursive: true, force: true });
    mkdirSync(l.data, { recursive: true });
    chownTree(l.data);
    await run(cmd, args);
  }
  // Logical replication connections match a database line, physical ones the `replication` keyword.
  writeFileSync(
    join(l.data, "pg_hba.conf"),
    ["local all all scram-sha-256", "host all all 127.0.0.1/32 scram-sha-256", "host replication all 127.0.0.1/32 scram-sha-256", ""].join("\n"),
  );
}

function serverArgs(l: Layout, port: number): string[] {
  const settings: Record<string, string> = {
    wal_level: "logical",
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: l.sockets,
    max_replication_slots: "20",
    max_wal_senders: "20",
    max_connections: "200",
    ssl: "on",
    ssl_cert_file: join(l.tls, "server.crt"),
    ssl_key_file: join(l.tls, "server.key"),
    // Small, so a large transaction is streamed to the consumer while in progress (protocol 2) in tests.
    logical_decoding_work_mem: "4MB",
  };
  return ["-D", l.data, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgres: Component = {
  name: "postgres",

  async provision(ctx: StackContext): Promise<void> {
    if (!existsSync(join(POSTGRES_BIN, "postgres"))) {
      throw new Error(`postgres: ${POSTGRES_BIN}/postgres is missing; install Debian's postgresql-15 (apt-get install postgresql-15)`);
    }
    ctx.log("postgres: Debian postgresql-15 available");
    return Promise.resolve();
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const l = layout(ctx);
    await initCluster(ctx, l);
    await makeTls(l);
    const port = await previousPortOrFree(ctx.previous?.POSTGRES_URL);
    const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
    const [cmd, args] = asPostgres("postgres", serverArgs(l, port));
    const pid = spawnDetached(ctx, pidName, cmd, args, { cwd: l.dir });
    await waitFor(
      `postgres on 127.0.0.1:${port}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`postgres exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
        return answers(url);
      },
      60_000,
      200,
    );
    ctx.log(`postgres: 15 on 127.0.0.1:${port}`);
    return {
      POSTGRES_URL: url,
      POSTGRES_HOST: "127.0.0.1",
      POSTGRES_PORT: String(port),
      POSTGRES_USER: USER,
      POSTGRES_PASSWORD: PASSWORD,
      POSTGRES_CA_FILE: join(l.tls, "ca.crt"),
    };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const url = env.POSTGRES_URL;
    if (url === undefined || !isAlive(readPid(ctx, pidName))) return false;
    try {
      return await answers(url);
    } catch {
      return false;
    }
  },

  async stop(ctx: StackContext): Promise<void> {
    // SIGINT is Postgres's "fast" shutdown (SIGTERM, "smart", waits for every client to leave).
    const pid = readPid(ctx, pidName);
    if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGINT");
    await stopProcess(ctx, pidName, 15_000);
  },
};
