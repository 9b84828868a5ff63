/**
 * Object storage → ClickHouse, one-shot, per store: the S3 server (versitygw) for s3 and
 * dospaces, fake-gcs-server for gcs, Azurite for azureblobstorage. 20 files in nested
 * folders, matched by `**` globs, every format, gzip and zstd among them, 2 files with
 * malformed lines: exact rows, exact error rows with `file:line`, Completed.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadRunFile } from "../../src/ingest/config.js";
import { runPipe } from "../../src/ingest/runner.js";
import { objectStoragePluginWith } from "../../src/sources/object-storage/plugin.js";
import { registerPlugin } from "../../src/sources/registry.js";
import { clickhouse, count, queryRows, uniqueName } from "./ingest-helpers.js";
import { FIXTURE_COLUMNS, type FixtureSet, type StoreKind, type TestStore, fixtureSet, s3Client, storeAvailable, testStore, writeObjectPipeFile } from "./object-storage-helpers.js";
import { CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand } from "@aws-sdk/client-s3";

const env = inject("stackEnv");
const ch = clickhouse(env);
const s3Up = storeAvailable(env, "s3");
const scratch = `scratch-${randomBytes(4).toString("hex")}`;
let fixtures: FixtureSet;

beforeAll(async () => {
  if (!s3Up) return;
  await s3Client(env).send(new CreateBucketCommand({ Bucket: scratch }));
  fixtures = await fixtureSet(ch, env, scratch, "data");
}, 120_000);

afterAll(async () => {
  await ch.close();
});

const FORMATS = [
  { format: "JSONEachRow", glob: "data/json/**/*.json*" },
  { format: "CSV", glob: "data/csv/**/*.{csv,csv.gz,csv.zst}" },
  { format: "TabSeparated", glob: "data/tsv/**/*.tsv*" },
  { format: "Parquet", glob: "data/parquet/**/*.parquet" },
  { format: "Avro", glob: "data/avro/**/*.avro" },
] as const;

describe.each(["s3", "dospaces", "gcs", "azureblobstorage"] as const)("object storage one-shot: %s", (kind: StoreKind) => {
  const enabled = s3Up && storeAvailable(env, kind);
  const db = uniqueName(`os_${kind}`);
  let store: TestStore;

  beforeAll(async () => {
    if (!enabled) return;
    await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    store = await testStore(env, kind, `os-${kind.slice(0, 5)}-${randomBytes(4).toString("hex")}`);
    for (const [key, body] of fixtures.files) await store.put(key, body);
  }, 60_000);

  afterAll(async () => {
    if (!enabled) return;
    store.close();
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  });

  it.skipIf(!enabled)("ingests 20 files of every format matched by ** globs: exact rows, error rows with file:line, Completed", async () => {
    for (const f of FORMATS) {
      const file = writeObjectPipeFile(env, {
        name: `files-${f.format.toLowerCase()}`,
        database: db,
        table: "events",
        source: { ...store.source(f.glob), format: f.format, compression: "auto" },
        secrets: store.secrets,
        columns: FIXTURE_COLUMNS,
      });
      const code = await runPipe(loadRunFile(file), { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 });
      expect(code, `${f.format} pipe exit code`).toBe(0);
    }
    expect(await count(ch, `SELECT count() FROM ${db}.events`)).toBe(197);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.events`)).toBe(197);
    const perFormat = await queryRows<{ folder: string; n: string }>(ch, `SELECT splitByChar('/', _path)[3] AS folder, toString(count()) AS n FROM ${db}.events GROUP BY folder ORDER BY folder`);
    expect(Object.fromEntries(perFormat.map((r) => [r.folder, Number(r.n)]))).toEqual(fixtures.rows);
    // Virtual columns: the object's bucket/key, its file name and size.
    const files = await queryRows<{ path: string; file: string; size: string }>(ch, `SELECT DISTINCT _path AS path, _file AS file, toString(_size) AS size FROM ${db}.events ORDER BY path`);
    expect(files).toHaveLength(20);
    for (const f of files) {
      const key = f.path.slice(store.bucket.length + 1);
      expect(f.path.startsWith(`${store.bucket}/`)).toBe(true);
      expect(f.file).toBe(key.slice(key.lastIndexOf("/") + 1));
      expect(Number(f.size)).toBe(fixtures.files.get(key)?.length);
    }
    const errors = await queryRows<{ source_position: string; raw_message: string }>(ch, `SELECT source_position, raw_message FROM ${db}.events_clickpipes_error ORDER BY source_position`);
    expect(errors.map((e) => [e.source_position, e.raw_message])).toEqual([...fixtures.errors].sort(([a], [b]) => (a < b ? -1 : 1)));
    const completed = await count(ch, `SELECT count() FROM ${db}.clickpipes_log WHERE error_type = 'PHASE' AND message = 'Completed'`);
    expect(completed).toBe(FORMATS.length);
    expect(await count(ch, `SELECT sum(rows) FROM ${db}.clickpipes_state`)).toBe(197);
    // The table of ingested files: each file once, done, with its rows (a file with malformed lines counts them too: 3 more).
    const record = await queryRows<{ files: string; rows: string; done: string }>(
      ch,
      `SELECT toString(uniqExact(path)) AS files, toString(sum(rows)) AS rows, toString(countIf(status = 'done')) AS done FROM ${db}.events_clickpipes_archive`,
    );
    expect(record[0]).toEqual({ files: "20", rows: "200", done: "20" });
  }, 300_000);
});

describe.skipIf(!s3Up)("object storage on the S3 server: failed files and the consumer's byte path", () => {
  const db = uniqueName("os_more");
  let store: TestStore;

  beforeAll(async () => {
    await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    store = await testStore(env, "s3", `os-more-${randomBytes(4).toString("hex")}`);
  });

  afterAll(async () => {
    store.close();
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  });

  it("a corrupt Parquet file: a system error naming it, the file marked failed, the other files ingested, Completed", async () => {
    const parquet = fixtures.files.get("data/parquet/1.parquet") as Buffer;
    await store.put("pq/a.parquet", parquet);
    await store.put("pq/b-corrupt.parquet", Buffer.concat([parquet.subarray(0, 100), Buffer.from("garbage")]));
    await store.put("pq/c.parquet", fixtures.files.get("data/parquet/a/2.parquet") as Buffer);
    const file = writeObjectPipeFile(env, { name: "corrupt", database: db, table: "pq", source: { ...store.source("pq/*.parquet"), format: "Parquet" }, secrets: store.secrets, columns: FIXTURE_COLUMNS });
    expect(await runPipe(loadRunFile(file), { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 })).toBe(0);
    expect(await count(ch, `SELECT count() FROM ${db}.pq`)).toBe(20);
    expect(await count(ch, `SELECT count() FROM ${db}.clickpipes_log WHERE error_type = 'SOURCE_ERROR' AND message LIKE '%pq/b-corrupt.parquet%'`)).toBe(1);
    const files = await queryRows<{ path: string; status: string; rows: string }>(ch, `SELECT path, status, toString(rows) AS rows FROM ${db}.pq_clickpipes_archive ORDER BY path`);
    expect(files.map((f) => [f.path, f.status, f.rows])).toEqual([["pq/a.parquet", "done", "10"], ["pq/b-corrupt.parquet", "failed", "0"], ["pq/c.parquet", "done", "10"]]);
    expect(await count(ch, `SELECT count() FROM ${db}.clickpipes_log WHERE error_type = 'PHASE' AND message = 'Completed'`)).toBe(1);
  });

  it("the consumer streams the objects from the S3 SDK into INSERT ... FORMAT (gzip and plain, a malformed line isolated)", async () => {
    for (const [key, body] of fixtures.files) if (key.startsWith("data/json/") && !key.endsWith(".zst")) await store.put(key, body);
    const restore = registerPlugin(objectStoragePluginWith({ transfer: "consumer" }));
    try {
      const file = writeObjectPipeFile(env, {
        name: "streamed",
        database: db,
        table: "streamed",
        source: { ...store.source("data/json/**/*.json*"), format: "JSONEachRow" },
        secrets: store.secrets,
        columns: [
          { name: "id", type: "UInt64" },
          { name: "name", type: "String" },
        ],
      });
      expect(await runPipe(loadRunFile(file), { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 })).toBe(0);
    } finally {
      restore();
    }
    expect(await count(ch, `SELECT count() FROM ${db}.streamed`)).toBe(28);
    expect(await count(ch, `SELECT uniqExact(id) FROM ${db}.streamed`)).toBe(28);
    const errors = await queryRows<{ source_position: string }>(ch, `SELECT source_position FROM ${db}.streamed_clickpipes_error ORDER BY source_position`);
    expect(errors.map((e) => e.source_position)).toEqual(["data/json/c/d/e/4.json.gz:4", "data/json/c/d/e/4.json.gz:7"]);
    expect(await count(ch, `SELECT sum(rows) FROM ${db}.clickpipes_state WHERE pipe = 'test/streamed'`)).toBe(28);
  });
});

describe.skipIf(!s3Up || !storeAvailable(env, "gcs"))("object storage authentication", () => {
  const db = uniqueName("os_auth");

  beforeAll(async () => {
    await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  });

  afterAll(async () => {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  });

  async function ingest(name: string, source: Record<string, unknown>, secrets: Record<string, Record<string, string>> = {}): Promise<number> {
    const file = writeObjectPipeFile(env, { name, database: db, table: name, source: { ...source, format: "JSONEachRow" }, secrets, columns: FIXTURE_COLUMNS.slice(0, 3) });
    expect(await runPipe(loadRunFile(file), { httpPort: 0, setup: "create", exitOnCompletion: true, shutdownMs: 5_000 })).toBe(0);
    return count(ch, `SELECT count() FROM ${db}.${name}`);
  }

  it("a public S3 bucket: no credentials, unsigned listing and s3(..., NOSIGN, ...)", async () => {
    const bucket = `os-public-${randomBytes(4).toString("hex")}`;
    const client = s3Client(env);
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: ["s3:GetObject", "s3:ListBucket"], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }] };
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "p/a.json", Body: fixtures.files.get("data/json/a/1.json") }));
    client.destroy();
    expect(await ingest("public", { type: "s3", url: `${env.S3_ENDPOINT}/${bucket}/p/*.json` })).toBe(10);
  });

  it("GCS with HMAC keys: listed through the S3-compatible API, read by gcs()", async () => {
    const store = await testStore(env, "gcs", `os-hmac-${randomBytes(4).toString("hex")}`);
    await store.put("h/a/1.json.gz", fixtures.files.get("data/json/a/b/2.json.gz") as Buffer);
    const source = { type: "gcs", url: `${env.GCS_ENDPOINT}/${store.bucket}/h/**/*.json.gz`, authentication: "IAM_USER", credentialsSecretRef: { name: "hmac" } };
    expect(await ingest("hmac", source, { hmac: { accessKeyId: "GOOG1EXAMPLE", secretAccessKey: "hmac-secret" } })).toBe(10);
  });
});
