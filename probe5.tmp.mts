import { createClient } from "@clickhouse/client";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
const env = Object.fromEntries(readFileSync("/work/main/.stack/env","utf8").trim().split("\n").map(l=>{const i=l.indexOf("=");return [l.slice(0,i), l.slice(i+1).replace(/^'|'$/g,"")]}));
const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
const r0 = await ch.exec({ query: "SELECT toUInt64(number) id FROM numbers(10) FORMAT Parquet" });
const chunks: Buffer[] = []; for await (const c of r0.stream) chunks.push(c as Buffer);
const pq = Buffer.concat(chunks); console.log("parquet bytes", pq.length, pq.subarray(0,4).toString(), pq.subarray(-4).toString());
await ch.command({ query: "CREATE TABLE IF NOT EXISTS default.probe_p (id UInt64) ENGINE = MergeTree ORDER BY id" });
for (const body of [Readable.from([pq]), Readable.from([pq.subarray(0, 100), pq.subarray(100)])]) {
  const r = await ch.exec({ query: "INSERT INTO default.probe_p (id) FORMAT Parquet", values: body }).catch(e => { console.log("ERR", e.message.slice(0,200)); return undefined; });
  if (r) { for await (const c of r.stream) void c; console.log("ok", r.summary?.written_rows); }
}
await ch.command({ query: "DROP TABLE default.probe_p" });
await ch.close();
