/**
 * A resync of a running Postgres pipe (`clickpipes run` with the resync id the operator
 * would give): the ClickHouse tables have drifted from Postgres in ways replication alone
 * never repairs (rows deleted in ClickHouse, changes made while the slot was gone), then the
 * resync reloads both tables into `<table>_resync` and swaps them in, with the consumer
 * killed -9 once while it loads. Queries on the targets are answered throughout (old rows
 * until the swap), both tables end equal to Postgres by content, and replication goes on
 * from the new slot.
 */
import type pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor, type Consumer } from "./ingest-helpers.js";
import { chDigest, dropDatabase, freshDatabase, pgDigest, writePgPipeFile } from "./postgres-helpers.js";
import { withResyncId } from "./resync-helpers.js";

const env = inject("stackEnv");
const ch = clickhouse(env);
const name = uniqueName("pgresync");
const slot = `clickpipes_test_${name.replaceAll("-", "_")}`;
let src: pg.Client;
const columns = { t: ["id", "a", "n", "at"], u: ["id", "v"] } as const;

/** The pipe file, with the resync id the operator puts on the consumers' copy of the pipe when asked. */
function pipeFile(resyncId?: string): string {
  const file = writePgPipeFile(env, { name, pgDatabase: name, chDatabase: name, tables: ["t", "u"], settings: { snapshotNumRowsPerPartition: 5_000, initialLoadParallelism: 1, snapshotNumberOfParallelTables: 1 } });
  return resyncId === undefined ? file : withResyncId(file, resyncId);
}

const live = (table: string, where = "1"): Promise<number> => count(ch, `SELECT count() AS n FROM ${name}.${table} FINAL WHERE _peerdb_is_deleted = 0 AND ${where}`);
const resyncState = async (): Promise<string | undefined> =>
  (await queryRows<{ p: string }>(ch, `SELECT argMax(position, last_insert_time) AS p FROM ${name}.clickpipes_state WHERE source_position = 'resync' GROUP BY pipe`))[0]?.p;
const partitionsDone = (table: string): Promise<number> =>
  count(ch, `SELECT count() AS n FROM (SELECT source_position, argMax(position, last_insert_time) AS p FROM ${name}.clickpipes_state WHERE startsWith(source_position, 'snapshot/${table}/') GROUP BY source_position) WHERE p = 'done'`);

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  src = await freshDatabase(env, name);
  await src.query("CREATE TABLE t (id int PRIMARY KEY, a text, n numeric(12,2), at timestamptz)");
  await src.query("INSERT INTO t SELECT g, repeat('x', 200) || g, g * 1.25, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute' FROM generate_series(1, 60000) g");
  await src.query("CREATE TABLE u (id int PRIMARY KEY, v text)");
  await src.query("INSERT INTO u SELECT g, 'v' || g FROM generate_series(1, 500) g");
  await src.query("ANALYZE t");
});

afterAll(async () => {
  await src.end();
  if (process.env.KEEP_PG_RESYNC === "1") return;
  await dropDatabase(env, name);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await ch.close();
});

it("reloads drifted tables into new ones and swaps them in, queries answered throughout, then replicates on", async () => {
  let consumer: Consumer = startConsumer(pipeFile());
  try {
    await waitFor("initial load", async () => (await live("t")) === 60000 && (await live("u")) === 500, 120_000, consumer);

    // Drift replication cannot repair: rows deleted in ClickHouse, and changes made while the slot was gone.
    await ch.command({ query: `ALTER TABLE ${name}.t DELETE WHERE id <= 1000 SETTINGS mutations_sync = 2` });
    await stopConsumer(consumer);
    await waitFor("the slot dropped", async () => {
      await src.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [slot]);
      await src.query("SELECT pg_drop_replication_slot($1)", [slot]);
      return true;
    });
    await src.query("UPDATE u SET v = 'changed while the slot was gone' WHERE id <= 100");
    await src.query("DELETE FROM t WHERE id > 58000");
    await src.query("INSERT INTO u SELECT g, 'w' || g FROM generate_series(501, 520) g");
    consumer = startConsumer(pipeFile());
    await waitFor("a new slot", () => Promise.resolve(consumer.log().includes('"msg":"replicating"')), 60_000, consumer);
    await src.query("INSERT INTO u VALUES (1000, 'after the new slot')");
    await waitFor("replication from a new slot", async () => (await live("u", "id = 1000")) === 1, 60_000, consumer);
    expect(await live("t")).toBe(59000);
    expect(await live("u", "v LIKE 'changed%'")).toBe(0);
    await stopConsumer(consumer);
    const drifted = await live("t");

    // The resync, killed -9 once while it loads t_resync; queries on t answered the whole time.
    const answers: number[] = [];
    let polling = true;
    const poller = (async (): Promise<void> => {
      while (polling) {
        answers.push(await live("t"));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    consumer = startConsumer(pipeFile("r1"));
    await waitFor("first partition of t_resync", async () => (await partitionsDone("t_resync")) >= 1 || (await resyncState()) === "r1:done", 120_000, consumer);
    const killedMidway = (await resyncState()) !== "r1:done";
    consumer.child.kill("SIGKILL");
    await consumer.exited;
    consumer = startConsumer(pipeFile("r1"));
    await waitFor("resync done", async () => (await resyncState()) === "r1:done", 180_000, consumer);
    polling = false;
    await poller;
    if (killedMidway) expect(consumer.log()).toContain("resync resuming");

    const expectedT = 58000;
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((n) => n === drifted || n === expectedT)).toBe(true);
    expect(await pgDigest(src, "t", columns.t)).toEqual(await chDigest(ch, name, "t", columns.t));
    expect(await pgDigest(src, "u", columns.u)).toEqual(await chDigest(ch, name, "u", columns.u));
    const tables = await queryRows<{ name: string; comment: string }>(ch, `SELECT name, comment FROM system.tables WHERE database = '${name}' AND name IN ('t', 'u', 't_resync', 'u_resync') ORDER BY name`);
    expect(tables).toEqual([
      { name: "t", comment: "clickpipes resync r1" },
      { name: "u", comment: "clickpipes resync r1" },
    ]);

    // Replication goes on from the new slot.
    await src.query("INSERT INTO t VALUES (70000, 'new', 1.5, now()); UPDATE u SET v = 'after resync' WHERE id = 1; DELETE FROM t WHERE id = 2");
    await waitFor("changes after the swap", async () => (await live("t", "id = 70000")) === 1 && (await live("u", "v = 'after resync'")) === 1 && (await live("t", "id = 2")) === 0, 60_000, consumer);
    expect(await pgDigest(src, "t", columns.t)).toEqual(await chDigest(ch, name, "t", columns.t));

    // The same id again does nothing: a restart with it replicates, it does not reload.
    await stopConsumer(consumer);
    consumer = startConsumer(pipeFile("r1"));
    await src.query("INSERT INTO u VALUES (2000, 'once')");
    await waitFor("replicating after a restart", async () => (await live("u", "id = 2000")) === 1, 60_000, consumer);
    expect(consumer.log()).not.toContain("resync starting");
  } finally {
    await stopConsumer(consumer);
  }
}, 400_000);
