/**
 * Object storage test helpers: the stack's three stores (versitygw for s3 and dospaces,
 * fake-gcs-server, Azurite) behind one `put`, a `clickpipes run` file for an object storage
 * pipe, and the fixture files the suites ingest, made by the ClickHouse engine itself
 * (Parquet, Avro, zstd) or by hand (the malformed lines).
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { BlobServiceClient } from "@azure/storage-blob";
import type { ClickHouseClient } from "@clickhouse/client";
import { Storage } from "@google-cloud/storage";
import { stringify } from "yaml";
import type { StackEnv } from "../helpers/stack-clients.js";
import type { Consumer } from "./ingest-helpers.js";

export type StoreKind = "s3" | "dospaces" | "gcs" | "azureblobstorage";

export interface TestStore {
  readonly kind: StoreKind;
  readonly bucket: string;
  put(key: string, body: Buffer | string): Promise<void>;
  /** spec.source.objectStorage without format/compression, for keys matching `pattern`. */
  source(pattern: string): Record<string, unknown>;
  /** Secrets the source names. */
  readonly secrets: Record<string, Record<string, string>>;
  close(): void;
}

export function s3Client(env: StackEnv): S3Client {
  return new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID ?? "", secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" },
  });
}

const S3_SECRET = "s3-keys";

async function s3Store(env: StackEnv, kind: "s3" | "dospaces", bucket: string): Promise<TestStore> {
  const client = s3Client(env);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    kind,
    bucket,
    put: async (key, body) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    source: (pattern) => ({ type: kind, url: `${env.S3_ENDPOINT}/${bucket}/${pattern}`, authentication: "IAM_USER", credentialsSecretRef: { name: S3_SECRET } }),
    secrets: { [S3_SECRET]: { accessKeyId: env.S3_ACCESS_KEY_ID ?? "", secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" } },
    close: () => client.destroy(),
  };
}

async function gcsStore(env: StackEnv, bucket: string): Promise<TestStore> {
  const storage = new Storage({ apiEndpoint: env.GCS_ENDPOINT, projectId: "test" });
  await storage.bucket(bucket).create();
  return {
    kind: "gcs",
    bucket,
    put: async (key, body) => {
      await storage.bucket(bucket).file(key).save(typeof body === "string" ? Buffer.from(body) : body, { resumable: false });
    },
    // fake-gcs-server takes any credentials: a public bucket as far as the pipe can tell.
    source: (pattern) => ({ type: "gcs", url: `${env.GCS_ENDPOINT}/${bucket}/${pattern}` }),
    secrets: {},
    close: () => undefined,
  };
}

const AZURE_SECRET = "azure-cs";

async function azureStore(env: StackEnv, container: string): Promise<TestStore> {
  const client = BlobServiceClient.fromConnectionString(env.AZURE_BLOB_CONNECTION_STRING ?? "").getContainerClient(container);
  await client.create();
  return {
    kind: "azureblobstorage",
    bucket: container,
    put: async (key, body) => {
      const data = typeof body === "string" ? Buffer.from(body) : body;
      await client.getBlockBlobClient(key).upload(data, data.length);
    },
    source: (pattern) => ({ type: "azureblobstorage", azureContainerName: container, path: pattern, authentication: "CONNECTION_STRING", credentialsSecretRef: { name: AZURE_SECRET } }),
    secrets: { [AZURE_SECRET]: { connectionString: env.AZURE_BLOB_CONNECTION_STRING ?? "" } },
    close: () => undefined,
  };
}

export function storeAvailable(env: StackEnv, kind: StoreKind): boolean {
  if (kind === "gcs") return env.GCS_ENDPOINT !== undefined;
  if (kind === "azureblobstorage") return env.AZURE_BLOB_CONNECTION_STRING !== undefined;
  return env.S3_ENDPOINT !== undefined;
}

export function testStore(env: StackEnv, kind: StoreKind, bucket: string): Promise<TestStore> {
  if (kind === "gcs") return gcsStore(env, bucket);
  if (kind === "azureblobstorage") return azureStore(env, bucket);
  return s3Store(env, kind, bucket);
}

export interface ObjectPipeOptions {
  readonly name: string;
  readonly database: string;
  readonly table: string;
  readonly source: Record<string, unknown>;
  readonly secrets: Record<string, Record<string, string>>;
  readonly columns?: readonly { name: string; type: string }[];
  readonly managedTable?: boolean;
  readonly settings?: Record<string, unknown>;
}

/** A `clickpipes run` file: the ClickPipe and its Secrets. */
export function writeObjectPipeFile(env: StackEnv, o: ObjectPipeOptions): string {
  const dir = mkdtempSync(join(tmpdir(), "object-storage-"));
  const pipe = {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name, namespace: "test" },
    spec: {
      source: { objectStorage: o.source },
      destination: {
        clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } },
        database: o.database,
        table: o.table,
        managedTable: o.managedTable ?? true,
        ...(o.columns === undefined ? {} : { columns: o.columns }),
      },
      settings: { streamingMaxInsertWaitTime: "1s", objectStoragePollingInterval: "1s", ...o.settings },
    },
  };
  const secrets = { "ch-admin": { username: env.CLICKHOUSE_USER ?? "", password: env.CLICKHOUSE_PASSWORD ?? "" }, ...o.secrets };
  const docs = [pipe, ...Object.entries(secrets).map(([name, stringData]) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData }))];
  const file = join(dir, "pipe.yaml");
  writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

/** The columns every fixture file has, plus the virtual columns. */
export const FIXTURE_COLUMNS = [
  { name: "id", type: "UInt64" },
  { name: "name", type: "String" },
  { name: "_path", type: "String" },
  { name: "_file", type: "String" },
  { name: "_size", type: "UInt64" },
  { name: "_time", type: "DateTime" },
];

/** Rows ids [base, base + n) as the engine writes them in `format`. */
export async function engineFile(ch: ClickHouseClient, format: string, base: number, n: number): Promise<Buffer> {
  const result = await ch.exec({ query: `SELECT toUInt64(number + ${base}) AS id, concat('n', toString(number + ${base})) AS name FROM numbers(${n}) FORMAT ${format}` });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * `body` compressed with zstd by the engine (Node 20 has no zstd): written through
 * s3(..., 'zstd') into a scratch key of the S3 server, read back.
 */
export async function zstd(ch: ClickHouseClient, env: StackEnv, scratchBucket: string, format: string, rows: { base: number; n: number }): Promise<Buffer> {
  const { base, n } = rows;
  const key = `scratch/${format}-${base}.zst`;
  await ch.command({
    query: `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, '${format}', 'id UInt64, name String', 'zstd')
            SELECT toUInt64(number + ${base}), concat('n', toString(number + ${base})) FROM numbers(${n}) SETTINGS s3_truncate_on_insert = 1`,
    query_params: { url: `${env.S3_ENDPOINT}/${scratchBucket}/${key}`, k: env.S3_ACCESS_KEY_ID, s: env.S3_SECRET_ACCESS_KEY },
  });
  const out = await s3Client(env).send(new GetObjectCommand({ Bucket: scratchBucket, Key: key }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

export interface FixtureSet {
  /** Key (under the set's folder) → bytes. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** Good rows per format's glob. */
  readonly rows: Readonly<Record<string, number>>;
  /** Error rows expected: position (`key:line`) → raw line. */
  readonly errors: ReadonlyMap<string, string>;
}

const ROWS = 10;

function jsonLines(base: number): string {
  return Array.from({ length: ROWS }, (_, i) => JSON.stringify({ id: base + i, name: `n${base + i}` })).join("\n") + "\n";
}

/**
 * 20 files in nested folders, four per format (JSONEachRow, CSV, TabSeparated, Parquet,
 * Avro), 10 rows each, gzip and zstd among them; `json/c/d/e/4.json.gz` has 2 malformed
 * lines and `csv/z/4.csv` 1: 197 good rows and 3 error rows.
 */
export async function fixtureSet(ch: ClickHouseClient, env: StackEnv, scratchBucket: string, folder: string): Promise<FixtureSet> {
  const files = new Map<string, Buffer>();
  const badJson = jsonLines(400).split("\n");
  badJson[3] = '{"id": 403, "name": ';
  badJson[6] = "not json at all";
  files.set(`${folder}/json/a/1.json`, Buffer.from(jsonLines(100)));
  files.set(`${folder}/json/a/b/2.json.gz`, gzipSync(jsonLines(200)));
  files.set(`${folder}/json/c/3.json.zst`, await zstd(ch, env, scratchBucket, "JSONEachRow", { base: 300, n: ROWS }));
  files.set(`${folder}/json/c/d/e/4.json.gz`, gzipSync(badJson.join("\n")));
  const csv = await engineFile(ch, "CSVWithNames", 1400, ROWS);
  const badCsv = csv.toString().split("\n");
  badCsv[5] = '"1405,"n1405';
  files.set(`${folder}/csv/1.csv`, await engineFile(ch, "CSVWithNames", 1100, ROWS));
  files.set(`${folder}/csv/x/2.csv.gz`, gzipSync(await engineFile(ch, "CSVWithNames", 1200, ROWS)));
  files.set(`${folder}/csv/x/y/3.csv.zst`, await zstd(ch, env, scratchBucket, "CSVWithNames", { base: 1300, n: ROWS }));
  files.set(`${folder}/csv/z/4.csv`, Buffer.from(badCsv.join("\n")));
  files.set(`${folder}/tsv/1.tsv`, await engineFile(ch, "TabSeparatedWithNames", 2100, ROWS));
  files.set(`${folder}/tsv/a/2.tsv.gz`, gzipSync(await engineFile(ch, "TabSeparated", 2200, ROWS)));
  files.set(`${folder}/tsv/a/b/3.tsv.zst`, await zstd(ch, env, scratchBucket, "TabSeparated", { base: 2300, n: ROWS }));
  files.set(`${folder}/tsv/c/4.tsv`, await engineFile(ch, "TabSeparated", 2400, ROWS));
  for (const [i, path] of ["1.parquet", "a/2.parquet", "a/b/3.parquet", "c/4.parquet"].entries()) files.set(`${folder}/parquet/${path}`, await engineFile(ch, "Parquet", 3100 + i * 100, ROWS));
  for (const [i, path] of ["1.avro", "x/2.avro", "x/y/3.avro", "z/4.avro"].entries()) files.set(`${folder}/avro/${path}`, await engineFile(ch, "Avro", 4100 + i * 100, ROWS));
  const errors = new Map([
    [`${folder}/json/c/d/e/4.json.gz:4`, badJson[3]],
    [`${folder}/json/c/d/e/4.json.gz:7`, badJson[6]],
    [`${folder}/csv/z/4.csv:6`, badCsv[5]],
  ]);
  return { files, rows: { json: 38, csv: 39, tsv: 40, parquet: 40, avro: 40 }, errors };
}

/** `n` JSONEachRow lines `{id, name}` from id `base`. */
export function idLines(base: number, n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ id: base + i, name: `n${base + i}` })).join("\n") + "\n";
}

/** A consumer's log so far ("" until its file exists). */
export function logSoFar(c: Consumer): string {
  return existsSync(c.logFile) ? c.log() : "";
}
