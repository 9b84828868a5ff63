import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { freePort } from "../stack/process.js";
import { clickhouse, count, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { dropTestDatabases, mysqlConnection, writeMysqlPipeFile } from "./mysql-helpers.js";

/**
 * The SSH tunnel option with MySQL: Debian's sshd on a loopback port with a host key and an
 * authorized key made here; the pipe reaches MariaDB only through it (the shared CDC tunnel
 * module, src/sources/cdc/ssh-tunnel.ts).
 */
const env = inject("stackEnv");
const SSHD = "/usr/sbin/sshd";
const enabled = env.MYSQL_URL !== undefined;
const ch = clickhouse(env);
const db = uniqueName("mysql_ssh");
const src = uniqueName("ssh");
const dir = mkdtempSync(join(tmpdir(), "mysql-sshd-"));
let my: Connection;
let sshd: ChildProcess | undefined;
let sshPort = 0;

async function startSshd(): Promise<void> {
  // No stdin: ssh-keygen reads none, and a closed pipe must not become an EPIPE.
  for (const key of ["host_key", "client_key"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, key)], { stdio: "ignore" });
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o600 });
  // sshd checks its privilege-separation directory even when it runs as one user.
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  sshPort = await freePort();
  const config = [
    `Port ${sshPort}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "AllowTcpForwarding yes",
    `PidFile ${join(dir, "sshd.pid")}`,
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), `${config}\n`);
  sshd = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  sshd.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  await waitFor("sshd listening", () => Promise.resolve(log.includes("Server listening") || sshd?.exitCode !== null), 15_000);
  if (sshd.exitCode !== null) throw new Error(`sshd exited: ${log}`);
}

beforeAll(async () => {
  if (!enabled) return;
  await startSshd();
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  my = await mysqlConnection(env);
  await my.query(`CREATE DATABASE ${src}; CREATE TABLE ${src}.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO ${src}.t VALUES (1, 'a'), (2, 'b')`);
}, 60_000);

afterAll(async () => {
  if (!enabled) return;
  sshd?.kill("SIGTERM");
  await dropTestDatabases(ch, my, db, src);
});

describe.skipIf(!enabled)("MySQL CDC through an SSH tunnel", () => {
  it("snapshots and replicates with the database reached only through the bastion", async () => {
    const file = writeMysqlPipeFile(env, {
      name: "ssh",
      database: db,
      tables: [{ sourceSchemaName: src, sourceTable: "t", targetTable: "t" }],
      // The bastion forwards to the database as it sees it; the pipe never connects to it directly.
      source: { host: "127.0.0.1", sshTunnel: { host: "127.0.0.1", port: sshPort, user: userInfo().username, privateKeySecretRef: { name: "ssh-key", key: "privateKey" } } },
      secrets: { "ssh-key": { privateKey: readFileSync(join(dir, "client_key"), "utf8") } },
    });
    const consumer = startConsumer(file);
    try {
      await waitFor("the snapshot through the tunnel", async () => (await count(ch, `SELECT count() FROM ${db}.t FINAL`)) === 2, 60_000, consumer);
      await waitFor("the consumer reading the binlog", () => Promise.resolve(consumer.log().includes("reading the binlog")), 60_000, consumer);
      await my.query(`UPDATE ${src}.t SET v = 'z' WHERE id = 1`);
      await waitFor("a change through the tunnel", async () => (await count(ch, `SELECT count() FROM ${db}.t FINAL WHERE v = 'z' AND _peerdb_is_deleted = 0`)) === 1, 60_000, consumer);
    } finally {
      await stopConsumer(consumer);
    }
  });
});
