/**
 * The HTTP interface: turns a request into one statement for the engine and answers the
 * way clickhouse-server does (headers, formats, compression, errors).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { randomUUID } from "node:crypto";
import type { AccessChange, AccessControl, Actor } from "./access.js";
import type { RoleSet } from "./access-sql.js";
import type { ReadonlyContext } from "./access-check.js";
import { authorizeStatement } from "./authorize.js";
import type { Engine, EngineConnection, QueryInput, QueryOutput } from "./engine.js";
import { errorBody, FrontError, httpStatusFor, toFrontError } from "./errors.js";
import { parseCredentials, parseMultipart, parseRequest, type FrontRequest } from "./request.js";
import type { Sessions } from "./sessions.js";
import { createZstdDecoder } from "./zstd.js";
import { parseStatement, type ParsedStatement } from "./sql.js";

export interface FrontContext {
  readonly engine: Engine;
  readonly sessions: Sessions;
  readonly access: AccessControl;
  /** Apply an access statement on behalf of `actor` and persist the result. */
  applyAccess(sql: string, actor: Actor): Promise<AccessChange>;
  /** SET ROLE per HTTP session, keyed by user and session id. */
  readonly sessionRoles: Map<string, RoleSet | "default">;
  log(message: string): void;
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: () => zlib.createGunzip(),
  "x-gzip": () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
  zstd: createZstdDecoder,
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

/**
 * The query's `readonly`, as a server derives it: the user's own setting, raised to 2 for a
 * request that is not a POST (HTTPHandler), then the URL's value, which may only tighten it
 * once readonly is on (a server refuses to change settings under readonly=1, and `readonly`
 * itself under readonly=2).
 */
export function effectiveReadonly(method: string | undefined, userReadonly: number, url: ReadonlyMap<string, string>): number {
  let readonly = userReadonly;
  if (method !== "POST" && readonly === 0) readonly = 2;
  if (readonly === 1 && url.size > 0) {
    throw new FrontError(164, "READONLY", `Cannot modify '${[...url.keys()][0] ?? ""}' setting in readonly mode`);
  }
  const asked = url.get("readonly");
  if (asked === undefined) return readonly;
  const n = Number(asked);
  if (!Number.isInteger(n) || n < 0 || n > 2) throw new FrontError(27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED", `Cannot parse '${asked}' as readonly`);
  if (readonly > 0 && (n === 0 || n > readonly)) throw new FrontError(164, "READONLY", "Cannot modify 'readonly' setting in readonly mode");
  return n;
}

function checkSettingNames(ctx: FrontContext, settings: ReadonlyMap<string, string>): void {
  for (const name of settings.keys()) {
    if (!ctx.engine.knowsSetting(name) && !name.startsWith("custom_")) {
      throw new FrontError(115, "UNKNOWN_SETTING", `Setting ${name} is neither a builtin setting nor started with the prefix 'custom_' registered for user-defined settings`);
    }
  }
}

async function runQuery<T>(ctx: FrontContext, user: string, r: FrontRequest, task: (c: EngineConnection) => Promise<T>): Promise<T> {
  if (r.sessionId === undefined) return ctx.engine.withPooled(task);
  const opts = { timeoutSec: r.sessionTimeoutSec, check: r.sessionCheck, close: r.closeSession };
  return ctx.sessions.with(user, r.sessionId, opts, task);
}

function withoutFrontOnlySettings(settings: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map(settings);
  // readonly is enforced by the front: set on a shared connection it would lock every later query out of SET.
  out.delete("readonly");
  return out;
}

/** The roles a request runs with: `role=` URL parameters, else the session's SET ROLE, else the user's defaults. */
function currentRoles(ctx: FrontContext, user: string, r: FrontRequest, search: URLSearchParams): RoleSet | "default" {
  const fromUrl = search.getAll("role");
  if (fromUrl.length > 0) {
    const roles: RoleSet = { all: false, names: fromUrl, except: [] };
    ctx.access.checkSettableRoles(user, roles);
    return roles;
  }
  return (r.sessionId !== undefined ? ctx.sessionRoles.get(`${user}\u0000${r.sessionId}`) : undefined) ?? "default";
}

interface Caller {
  readonly user: string;
  readonly roles: RoleSet | "default";
  readonly ro: ReadonlyContext;
  readonly database: string | undefined;
}

/** Apply an access statement; returns the (empty) result to send. */
async function runAccess(ctx: FrontContext, r: FrontRequest, caller: Caller, sql: string): Promise<QueryOutput> {
  const sessionDatabase = r.sessionId !== undefined ? ctx.sessions.database(caller.user, r.sessionId) : undefined;
  const actor = { user: caller.user, database: caller.database ?? sessionDatabase ?? "default", currentRoles: caller.roles, readonly: caller.ro };
  const change = await ctx.applyAccess(sql, actor);
  if (change.currentRoles !== undefined && r.sessionId !== undefined) ctx.sessionRoles.set(`${caller.user}\u0000${r.sessionId}`, change.currentRoles);
  return { body: Buffer.alloc(0), format: r.defaultFormat ?? "TabSeparated", summary: zeroSummary() };
}

/** Authorize on the connection that runs the query (session temporary tables resolve there), then run it. */
function runAuthorized(ctx: FrontContext, r: FrontRequest, caller: Caller, input: QueryInput): Promise<QueryOutput> {
  const rights = ctx.access.rightsOf(caller.user, caller.roles);
  return runQuery(ctx, caller.user, r, async (conn) => {
    const database = caller.database ?? conn.stickyDatabase ?? "default";
    const extra = await authorizeStatement(ctx.engine.probe(conn, input), { rights, statement: input.statement, database, readonly: caller.ro });
    return ctx.engine.execute(conn, extra.size === 0 ? input : { ...input, settings: new Map([...input.settings, ...extra]) });
  });
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
    checkSettingNames(ctx, r.settings);
    const roles = currentRoles(ctx, creds.user, r, search);
    const userSettings = ctx.access.userSettings(creds.user, roles);
    const readonly = effectiveReadonly(req.method, Number(userSettings.get("readonly") ?? "0"), r.settings);
    const caller: Caller = { user: creds.user, roles, ro: { readonly, httpGet: req.method === "GET" }, database: r.database ?? ctx.access.defaultDatabase(creds.user) };
    const { statement, data } = prepareStatement(r.query, multipart ? Buffer.alloc(0) : body);
    if (statement.kind === "access") {
      await sendResult(res, ctx, responseEncoding(req, r), await runAccess(ctx, r, caller, statement.sql), queryId);
      return;
    }
    const settings = withoutFrontOnlySettings(new Map([...userSettings, ...r.settings]));
    const input: QueryInput = { statement, data, defaultFormat: r.defaultFormat ?? "TabSeparated", params: r.params, settings, database: caller.database };
    await sendResult(res, ctx, responseEncoding(req, r), await runAuthorized(ctx, r, caller, input), queryId);
  } catch (err) {
    const fe = toFrontError(err);
    ctx.log(`query ${queryId} failed: ${fe.code} ${fe.type}: ${fe.message.split("\n")[0] ?? ""}`);
    sendError(res, ctx, fe, queryId);
  }
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
