/** A Postgres pipe through an SSH tunnel: the stack's sshd on loopback is the bastion, the consumer logs in with a key from a Secret. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { stateDir } from "../stack/env.js";
import { clickhouse, count, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { dropDatabase, freshDatabase, writePgPipeFile } from "./postgres-helpers.js";

const env = inject("stackEnv");
const enabled = env.SSH_PORT !== undefined && env.POSTGRES_URL !== undefined;
const ch = clickhouse(env);
const name = uniqueName("pgssh");
let src: pg.Client | undefined;
const logins = (): number => readFileSync(join(stateDir, "logs", "sshd.log"), "utf8").split("\n").filter((l) => l.includes("Accepted publickey")).length;

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  src = await freshDatabase(env, name);
  await src.query("CREATE TABLE t (id int PRIMARY KEY, v text)");
  await src.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g");
});

afterAll(async () => {
  if (!enabled) return;
  await src?.end();
  await dropDatabase(env, name);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await ch.close();
});

it.skipIf(!enabled)("loads and replicates through the SSH tunnel", async () => {
  const before = logins();
  const file = writePgPipeFile(env, {
    name,
    pgDatabase: name,
    chDatabase: name,
    tables: ["t"],
    source: { sshTunnel: { host: env.SSH_HOST, port: Number(env.SSH_PORT), user: env.SSH_USER, privateKeySecretRef: { name: "ssh", key: "privateKey" } } },
    secrets: { ssh: { privateKey: readFileSync(env.SSH_PRIVATE_KEY_FILE as string, "utf8") } },
  });
  const consumer = startConsumer(file);
  try {
    await waitFor("snapshot through the tunnel", async () => (await count(ch, `SELECT count() AS n FROM ${name}.t FINAL`).catch(() => 0)) === 500, 60_000, consumer);
    await src?.query("DELETE FROM t WHERE id > 250");
    await waitFor("changes through the tunnel", async () => (await count(ch, `SELECT count() AS n FROM ${name}.t FINAL WHERE _peerdb_is_deleted = 0`)) === 250, 60_000, consumer);
    expect(logins()).toBeGreaterThan(before);
  } finally {
    await stopConsumer(consumer);
  }
}, 180_000);
