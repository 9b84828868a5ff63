/**
 * The HTTP interface: turns a request into one statement for the engine and answers the
 * way clickhouse-server does (headers, formats, compression, errors).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { randomUUID } from "node:crypto";
import type { AccessControl } from "./access.js";
import type { Engine, QueryInput, QueryOutput } from "./engine.js";
import { errorBody, FrontError, httpStatusFor, toFrontError } from "./errors.js";
import { parseCredentials, parseMultipart, parseRequest, type FrontRequest } from "./request.js";
import type { Sessions } from "./sessions.js";
import { insertTarget, parseStatement, type ParsedStatement } from "./sql.js";

export interface FrontContext {
  readonly engine: Engine;
  readonly sessions: Sessions;
  readonly access: AccessControl;
  /** Apply an access statement and refresh the engine's view of users. */
  applyAccess(sql: string, user: string): Promise<void>;
  log(message: string): void;
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: () => zlib.createGunzip(),
  "x-gzip": () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const encoding = (req.headers["content-encoding"] ?? "").toLowerCase().trim();
  const chunks: Buffer[] = [];
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) chunks.push(chunk);
  };
  if (encoding === "" || encoding === "identity") {
    await collect(req);
  } else {
    const decoder = DECODERS[encoding];
    if (!decoder) throw new FrontError(36, "BAD_ARGUMENTS", `Unknown HTTP compression method: ${encoding}`);
    const d = decoder();
    await Promise.all([pipeline(req, d), collect(d as unknown as AsyncIterable<Buffer>)]);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

const PARSE_PREFIX_BYTES = 1 << 20;

interface Prepared {
  readonly statement: ParsedStatement;
  readonly data: Buffer | undefined;
}

/** Split the request into the statement and (for `INSERT ... FORMAT x`) its data bytes. */
export function prepareStatement(query: string | undefined, body: Buffer): Prepared {
  if (query !== undefined) {
    const head = parseStatement(query);
    if (head.dataOffset !== undefined) {
      const rest = query.slice(head.dataOffset);
      const data = rest.length === 0 ? body : Buffer.concat([Buffer.from(rest), body.length ? Buffer.from("\n") : Buffer.alloc(0), body]);
      return { statement: head, data };
    }
    if (body.length === 0) return { statement: head, data: undefined };
    return prepareStatement(undefined, Buffer.concat([Buffer.from(query + "\n"), body]));
  }
  const prefix = body.toString("utf8", 0, Math.min(body.length, PARSE_PREFIX_BYTES));
  const head = parseStatementLenient(prefix, body.length > PARSE_PREFIX_BYTES);
  if (head?.dataOffset !== undefined) {
    return { statement: head, data: body.subarray(Buffer.byteLength(prefix.slice(0, head.dataOffset))) };
  }
  return { statement: parseStatement(body.toString("utf8")), data: undefined };
}

/** A truncated prefix may end inside a literal; only its INSERT ... FORMAT head matters. */
function parseStatementLenient(prefix: string, truncated: boolean): ParsedStatement | undefined {
  if (!truncated) return parseStatement(prefix);
  try {
    return parseStatement(prefix);
  } catch {
    return undefined;
  }
}

const CONTENT_TYPES: [RegExp, string][] = [
  [/^(JSON|NDJSON)/i, "application/json; charset=UTF-8"],
  [/^(TabSeparated|TSV)/i, "text/tab-separated-values; charset=UTF-8"],
  [/^CSV/i, "text/csv; charset=UTF-8; header=absent"],
  [/^(RowBinary|Native|Parquet|Arrow|ORC|Avro|Protobuf|MsgPack)/i, "application/octet-stream"],
];

function contentType(format: string): string {
  return CONTENT_TYPES.find(([re]) => re.test(format))?.[1] ?? "text/plain; charset=UTF-8";
}

function commonHeaders(res: ServerResponse, ctx: FrontContext, queryId: string): void {
  res.setHeader("X-ClickHouse-Server-Display-Name", "clickhouse-front");
  res.setHeader("X-ClickHouse-Query-Id", queryId);
  res.setHeader("X-ClickHouse-Timezone", ctx.engine.timezone);
  res.setHeader("Keep-Alive", "timeout=10, max=10000");
}

function sendError(res: ServerResponse, ctx: FrontContext, err: FrontError, queryId: string): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  commonHeaders(res, ctx, queryId);
  res.setHeader("X-ClickHouse-Exception-Code", String(err.code));
  res.setHeader("Content-Type", "text/plain; charset=UTF-8");
  res.writeHead(httpStatusFor(err.type));
  res.end(errorBody(err, ctx.engine.version));
}

const ENCODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: () => zlib.createGzip({ level: 3 }),
  deflate: () => zlib.createDeflate({ level: 3 }),
  br: () => zlib.createBrotliCompress(),
};

function responseEncoding(req: IncomingMessage, r: FrontRequest): string | undefined {
  if (r.settings.get("enable_http_compression") !== "1") return undefined;
  const accepted = (req.headers["accept-encoding"] ?? "").toLowerCase();
  return Object.keys(ENCODERS).find((e) => accepted.split(",").some((a) => a.trim().split(";")[0] === e));
}

async function sendResult(res: ServerResponse, ctx: FrontContext, encoding: string | undefined, out: QueryOutput, queryId: string): Promise<void> {
  commonHeaders(res, ctx, queryId);
  res.setHeader("X-ClickHouse-Format", out.format);
  res.setHeader("X-ClickHouse-Summary", JSON.stringify(out.summary));
  res.setHeader("Content-Type", contentType(out.format));
  if (encoding === undefined || out.body.length === 0) {
    res.writeHead(200, { "Content-Length": out.body.length });
    res.end(out.body);
    return;
  }
  res.writeHead(200, { "Content-Encoding": encoding });
  await pipeline(Readable.from([out.body]), (ENCODERS[encoding] as () => NodeJS.ReadWriteStream)(), res);
}

function checkReadonly(method: string | undefined, r: FrontRequest, statement: ParsedStatement): void {
  const readonlySetting = r.settings.get("readonly");
  const readonly = method === "GET" || (readonlySetting !== undefined && readonlySetting !== "0");
  if (!readonly || statement.kind === "read" || statement.kind === "use") return;
  if (statement.kind === "set" && readonlySetting !== "1") return;
  const hint = method === "GET" ? " For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries" : "";
  throw new FrontError(164, "READONLY", `Cannot execute query in readonly mode.${hint}`);
}

async function runQuery(ctx: FrontContext, user: string, r: FrontRequest, input: QueryInput): Promise<QueryOutput> {
  if (r.sessionId === undefined) return ctx.engine.withPooled((c) => ctx.engine.execute(c, input));
  const opts = { timeoutSec: r.sessionTimeoutSec, check: r.sessionCheck, close: r.closeSession };
  return ctx.sessions.with(user, r.sessionId, opts, (c) => ctx.engine.execute(c, input));
}

function withoutFrontOnlySettings(settings: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map(settings);
  // readonly is enforced by the front: set on a shared connection it would lock every later query out of SET.
  out.delete("readonly");
  return out;
}

async function handleQuery(req: IncomingMessage, res: ServerResponse, ctx: FrontContext, search: URLSearchParams): Promise<void> {
  let queryId = search.get("query_id") || randomUUID();
  try {
    const creds = parseCredentials(req.headers, search);
    ctx.access.authenticate(creds.user, creds.password);
    const body = await readBody(req);
    const multipart = (req.headers["content-type"] ?? "").startsWith("multipart/form-data");
    const extra = multipart ? parseMultipart(body, req.headers["content-type"] ?? "") : new Map<string, string>();
    const r = parseRequest(search, extra);
    queryId = r.queryId || queryId;
    const { statement, data } = prepareStatement(r.query, multipart ? Buffer.alloc(0) : body);
    checkReadonly(req.method, r, statement);
    if (statement.kind === "access") {
      await ctx.applyAccess(statement.sql, creds.user);
      await sendResult(res, ctx, responseEncoding(req, r), { body: Buffer.alloc(0), format: r.defaultFormat ?? "TabSeparated", summary: zeroSummary() }, queryId);
      return;
    }
    authorize(ctx, creds.user, statement, r.database);
    const input: QueryInput = {
      statement,
      data,
      defaultFormat: r.defaultFormat ?? "TabSeparated",
      params: r.params,
      settings: withoutFrontOnlySettings(r.settings),
      database: r.database,
    };
    const out = await runQuery(ctx, creds.user, r, input);
    await sendResult(res, ctx, responseEncoding(req, r), out, queryId);
  } catch (err) {
    const fe = toFrontError(err);
    ctx.log(`query ${queryId} failed: ${fe.code} ${fe.type}: ${fe.message.split("\n")[0] ?? ""}`);
    sendError(res, ctx, fe, queryId);
  }
}

function authorize(ctx: FrontContext, user: string, statement: ParsedStatement, database: string | undefined): void {
  if (statement.kind !== "insert" || ctx.access.isAdmin(user)) return;
  const target = insertTarget(statement.tokens);
  if (target) ctx.access.authorizeInsert(user, target.database ?? database ?? "default", target.table);
}

function zeroSummary(): QueryOutput["summary"] {
  return { read_rows: "0", read_bytes: "0", written_rows: "0", written_bytes: "0", total_rows_to_read: "0", result_rows: "0", result_bytes: "0", elapsed_ns: "0" };
}

/** The request listener. */
export function frontHandler(ctx: FrontContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://front");
    const isPing = url.pathname === "/ping" || url.pathname === "/replicas_status";
    if (isPing || (url.pathname === "/" && req.method !== "POST" && !url.searchParams.has("query"))) {
      req.resume();
      res.writeHead(200, { "Content-Type": "text/html; charset=UTF-8", "Keep-Alive": "timeout=10, max=10000" });
      res.end("Ok.\n");
      return;
    }
    handleQuery(req, res, ctx, url.searchParams).catch((err: unknown) => {
      ctx.log(`response failed: ${err instanceof Error ? err.message : String(err)}`);
      res.destroy();
    });
  };
}
