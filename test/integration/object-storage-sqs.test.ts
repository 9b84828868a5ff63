/**
 * Any-order mode (spec.source.objectStorage.queueUrl) on the S3 server and ElasticMQ,
 * through `clickpipes run` processes. The stack's S3 server (versitygw) cannot publish
 * event notifications, so each test posts the S3-event-shaped SQS message itself right
 * after it writes the object, as S3 would: files arriving in non-lexical order are each
 * ingested exactly once; an event delivered twice is deduplicated by the table of ingested
 * files; a malformed message and an event for a missing object are system error rows and
 * their messages are deleted; a consumer killed with SIGKILL mid-file and restarted leaves
 * every row exactly once (the message comes back after the queue's visibility timeout, and
 * the retried insert is deduplicated on the managed table's deduplication window).
 */
import { randomBytes } from "node:crypto";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clickhouse, count, queryRows, startConsumer, stopConsumer, uniqueName, waitFor } from "./ingest-helpers.js";
import { type TestStore, idLines, logSoFar, storeAvailable, testStore, writeObjectPipeFile } from "./object-storage-helpers.js";

const env = inject("stackEnv");
const enabled = storeAvailable(env, "s3") && env.SQS_ENDPOINT !== undefined;
const ch = clickhouse(env);
const db = uniqueName("os_sqs");
let store: TestStore;
let sqs: SQSClient;

/** A queue of its own; a short visibility timeout so a message a killed consumer held comes back within seconds. */
async function queue(name: string): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomBytes(3).toString("hex")}`, Attributes: { VisibilityTimeout: "5" } }));
  return out.QueueUrl ?? "";
}

/** What S3 would post for a PUT of `key` (the key URL-encoded as S3 writes it). */
async function notify(queueUrl: string, key: string, size = 0): Promise<void> {
  const encoded = key.split("/").map((s) => encodeURIComponent(s).replaceAll("%20", "+")).join("/");
  const record = { eventVersion: "2.1", eventSource: "aws:s3", eventName: "ObjectCreated:Put", s3: { bucket: { name: store.bucket }, object: { key: encoded, size, eTag: "x" } } };
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ Records: [record] }) }));
}

async function put(queueUrl: string, key: string, body: string): Promise<void> {
  await store.put(key, body);
  await notify(queueUrl, key, body.length);
}

async function queueDepth(queueUrl: string): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

function pipeFile(name: string, folder: string, queueUrl: string): string {
  return writeObjectPipeFile(env, {
    name,
    database: db,
    table: name,
    // A managed table: the operator's DDL gives it the deduplication window the per-file insert tokens need.
    columns: [
      { name: "id", type: "UInt64" },
      { name: "name", type: "String" },
    ],
    source: { ...store.source(`${folder}/**/*.json`), format: "JSONEachRow", continuous: true, queueUrl },
    secrets: store.secrets,
  });
}

beforeAll(async () => {
  if (!enabled) return;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  store = await testStore(env, "s3", `os-sqs-${randomBytes(4).toString("hex")}`);
  sqs = new SQSClient({ endpoint: env.SQS_ENDPOINT, region: env.SQS_REGION ?? "elasticmq", credentials: { accessKeyId: env.SQS_ACCESS_KEY_ID ?? "x", secretAccessKey: env.SQS_SECRET_ACCESS_KEY ?? "x" } });
});

afterAll(async () => {
  if (enabled) {
    store.close();
    sqs.destroy();
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  }
  await ch.close();
});

describe.skipIf(!enabled)("object storage any-order mode (S3 events in SQS)", () => {
  it("ingests files in any order exactly once; a duplicate event, a malformed message and a missing object do not add rows", async () => {
    const queueUrl = await queue("anyorder");
    // Present at start: the initial load takes them without events.
    await store.put("any/m/start.json", idLines(0, 10));
    const consumer = startConsumer(pipeFile("anyorder", "any", queueUrl));
    try {
      await waitFor("the initial load", async () => (await count(ch, `SELECT count() FROM ${db}.anyorder`)) === 10, 60_000, consumer);
      // Non-lexical order: each key sorts before the one ingested just before it.
      await put(queueUrl, "any/z/3.json", idLines(300, 10));
      await put(queueUrl, "any/k/2.json", idLines(200, 10));
      await put(queueUrl, "any/a/1.json", idLines(100, 10));
      await put(queueUrl, "any/a b/0.json", idLines(900, 10));
      await waitFor("the 4 files named by events", async () => (await count(ch, `SELECT count() FROM ${db}.anyorder`)) === 50, 60_000, consumer);
      // The same event again, an event for the file of the initial load, a key outside the glob, a malformed body and a missing object.
      await notify(queueUrl, "any/a/1.json");
      await notify(queueUrl, "any/m/start.json");
      await put(queueUrl, "any/x/ignored.csv", "1,2\n");
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "this is not an S3 event" }));
      await notify(queueUrl, "any/gone/never-written.json");
      await put(queueUrl, "any/b/4.json", idLines(400, 10));
      await waitFor("the last file and an empty queue", async () => (await count(ch, `SELECT count() FROM ${db}.anyorder`)) >= 60 && (await queueDepth(queueUrl)) === 0, 60_000, consumer);
      expect(await stopConsumer(consumer)).toBe(0);
    } finally {
      await stopConsumer(consumer, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() FROM ${db}.anyorder`)).toBe(60);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.anyorder`)).toBe(60);
    // The table of ingested files: each file once, done.
    const files = await queryRows<{ path: string; n: string; status: string; rows: string }>(
      ch,
      `SELECT path, toString(count()) AS n, any(status) AS status, toString(any(rows)) AS rows FROM ${db}.anyorder_clickpipes_archive GROUP BY path ORDER BY path`,
    );
    expect(files.map((f) => [f.path, f.n, f.status, f.rows])).toEqual(
      ["any/a b/0.json", "any/a/1.json", "any/b/4.json", "any/k/2.json", "any/m/start.json", "any/z/3.json"].map((p) => [p, "1", "done", "10"]),
    );
    const errors = await queryRows<{ message: string }>(ch, `SELECT message FROM ${db}.clickpipes_log WHERE pipe = 'test/anyorder' AND error_type = 'SOURCE_ERROR' ORDER BY time`);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining("is not an S3 event notification"), expect.stringContaining("any/gone/never-written.json")]);
  }, 240_000);

  it("kill -9 in the middle of a file named by an event and a restart leave every row exactly once", async () => {
    const queueUrl = await queue("killed");
    const first = startConsumer(pipeFile("killed", "killed", queueUrl));
    const big = 6_000_000;
    try {
      // The initial load (nothing) is done once the queue is polled.
      await waitFor("the consumer polling the queue", () => Promise.resolve(logSoFar(first).includes('"consuming"')), 60_000, first);
      await ch.command({
        query: `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'JSONEachRow', 'id UInt64, name String')
                SELECT number, concat('name-', toString(number)) FROM numbers(${big}) SETTINGS s3_truncate_on_insert = 1`,
        query_params: { url: `${env.S3_ENDPOINT}/${store.bucket}/killed/big.json`, k: env.S3_ACCESS_KEY_ID, s: env.S3_SECRET_ACCESS_KEY },
      });
      await notify(queueUrl, "killed/big.json");
      await put(queueUrl, "killed/small.json", idLines(10_000_000, 100));
      // Killed once the big file's first blocks are in the table: its insert is under way.
      await waitFor("the big file's insert under way", async () => (await count(ch, `SELECT count() FROM ${db}.killed`)) > 0, 120_000, first);
      first.child.kill("SIGKILL");
      await first.exited;
    } finally {
      await stopConsumer(first, "SIGKILL");
    }
    expect(first.log()).not.toContain('"key":"killed/big.json","status":"inserted"');
    const second = startConsumer(pipeFile("killed", "killed", queueUrl));
    try {
      await waitFor("both files after the restart", async () => (await count(ch, `SELECT count() FROM ${db}.killed_clickpipes_archive`)) === 2 && (await queueDepth(queueUrl)) === 0, 180_000, second);
      expect(await stopConsumer(second)).toBe(0);
    } finally {
      await stopConsumer(second, "SIGKILL");
    }
    expect(await count(ch, `SELECT count() FROM ${db}.killed`)).toBe(big + 100);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.killed`)).toBe(big + 100);
    const ddl = await queryRows<{ statement: string }>(ch, `SHOW CREATE TABLE ${db}.killed`);
    expect(ddl[0]?.statement).toContain("non_replicated_deduplication_window = 1000");
  }, 300_000);
});
