/**
 * The chDB engine behind the front: one data directory, several native connections on it.
 * Each connection is a ClickHouse session context (its own settings, current database and
 * temporary tables). Sessionless queries share a small pool, HTTP sessions get a connection
 * of their own. Calls run on libuv's thread pool, so the event loop stays free for /ping.
 */
import type { EngineProbe } from "./authorize.js";
import type { ChdbNative, NativeConnection, NativeInsertResult } from "./native.js";
import { toFrontError } from "./errors.js";
import { needsInfile, withInfile } from "./infile.js";
import { SettingsState, setStatement } from "./settings-state.js";
import { quoteIdentifier, quoteString, setNames, type ParsedStatement } from "./sql.js";

export interface Summary {
  read_rows: string;
  read_bytes: string;
  written_rows: string;
  written_bytes: string;
  total_rows_to_read: string;
  result_rows: string;
  result_bytes: string;
  elapsed_ns: string;
}

export interface QueryInput {
  readonly statement: ParsedStatement;
  /** An INSERT's data following `FORMAT name`, passed to the engine as bytes. */
  readonly data: Buffer | undefined;
  /** Output format when the statement names none. */
  readonly defaultFormat: string;
  readonly params: Readonly<Record<string, string>>;
  readonly settings: ReadonlyMap<string, string>;
  readonly database: string | undefined;
}

export interface QueryOutput {
  readonly body: Buffer;
  readonly format: string;
  readonly summary: Summary;
}

const NO_DATA = Buffer.alloc(0);

const LINE_FORMATS = /^(JSONEachRow|JSONStringsEachRow|JSONCompactEachRow|JSONCompactStringsEachRow|TabSeparated|TSV|CSV|JSONLines|NDJSON)/i;

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** A promise chain that runs one task at a time (engine-wide parameter binding is not connection-safe). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class EngineConnection {
  busy = false;
  /** Database the user chose with USE (kept for a session's lifetime). */
  stickyDatabase: string | undefined;
  private currentDatabase = "default";

  constructor(
    readonly handle: NativeConnection,
    readonly settings: SettingsState,
    /** True for an HTTP session's connection: SET and USE persist across its queries. */
    readonly sessionful: boolean,
  ) {}

  get database(): string {
    return this.currentDatabase;
  }

  set database(name: string) {
    this.currentDatabase = name;
  }
}

export class Engine {
  private readonly pool: EngineConnection[] = [];
  private readonly waiters: ((c: EngineConnection) => void)[] = [];
  private readonly paramLock = new Mutex();
  private engineDefaults = new Map<string, string>();
  version = "";
  /** Every setting name the engine knows (a URL parameter naming another is UNKNOWN_SETTING). */
  knowsSetting(name: string): boolean {
    return this.engineDefaults.has(name);
  }
  timezone = "UTC";

  constructor(
    private readonly native: ChdbNative,
    private readonly dataPath: string,
    private readonly connectionArgs: readonly string[],
    private readonly serverDefaults: ReadonlyMap<string, string>,
    private readonly poolSize: number,
  ) {}

  /** Open the data directory and learn the engine's defaults, version and timezone. */
  async open(): Promise<void> {
    const first = this.native.CreateConnection(this.dataPath, this.connectionArgs);
    const text = async (sql: string): Promise<string> => Buffer.from((await this.native.QueryAsyncConnection(first, sql, "TabSeparated")).bytes).toString("utf8");
    this.engineDefaults = parseNameValues(await text("SELECT name, value FROM system.settings"));
    this.version = (await text("SELECT version()")).trim();
    this.timezone = (await text("SELECT timezone()")).trim();
    this.pool.push(this.wrap(first, false));
    for (let i = 1; i < this.poolSize; i++) this.pool.push(this.connect(false));
  }

  private wrap(handle: NativeConnection, sessionful: boolean): EngineConnection {
    return new EngineConnection(handle, new SettingsState(this.engineDefaults, this.serverDefaults), sessionful);
  }

  /** A new connection for an HTTP session. */
  connect(sessionful: boolean): EngineConnection {
    return this.wrap(this.native.CreateConnection(this.dataPath, this.connectionArgs), sessionful);
  }

  close(conn: EngineConnection): void {
    this.native.CloseConnection(conn.handle);
  }

  /** Run `task` on a free pooled connection, waiting for one if all are busy. */
  async withPooled<T>(task: (c: EngineConnection) => Promise<T>): Promise<T> {
    const conn = this.pool.find((c) => !c.busy) ?? (await new Promise<EngineConnection>((resolve) => this.waiters.push(resolve)));
    conn.busy = true;
    try {
      return await task(conn);
    } finally {
      const next = this.waiters.shift();
      if (next) next(conn);
      else conn.busy = false;
    }
  }

  /** Run one statement on `conn` with the request's settings and database. */
  async execute(conn: EngineConnection, input: QueryInput): Promise<QueryOutput> {
    await this.prepare(conn, input);
    const started = process.hrtime.bigint();
    const summary = emptySummary();
    let body: Buffer;
    if (input.data !== undefined && needsInfile(input.statement)) {
      const r = await withInfile(input.statement, input.data, (sql) => this.native.QueryAsyncConnection(conn.handle, sql, "TabSeparated"));
      summary.written_rows = String(r.rowsRead);
      summary.written_bytes = String(input.data.length);
      body = Buffer.alloc(0);
    } else if (input.data !== undefined) {
      const r = await this.native.InsertRawAsyncConnection(conn.handle, input.statement.sql, input.data, false);
      summary.written_rows = String(r.rowsWritten);
      summary.written_bytes = String(r.bytesWritten);
      body = Buffer.alloc(0);
    } else if (input.statement.kind === "insert") {
      const r = await this.insertWithoutData(conn, input.statement.sql, input.params);
      summary.written_rows = String(r.rowsWritten);
      summary.written_bytes = String(r.bytesWritten);
      // chDB reports only what an INSERT wrote; a server's read_rows count what its SELECT read, the same unless it filters (docs/design/clickhouse-front.md).
      summary.read_rows = summary.written_rows;
      summary.read_bytes = summary.written_bytes;
      body = Buffer.alloc(0);
    } else {
      const r = await this.query(conn, input.statement.sql, input.defaultFormat, input.params);
      summary.read_rows = String(r.rowsRead);
      summary.read_bytes = String(r.bytesRead);
      body = Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
    }
    summary.elapsed_ns = String(process.hrtime.bigint() - started);
    const format = input.statement.format ?? input.defaultFormat;
    summary.result_bytes = String(body.length);
    if (LINE_FORMATS.test(format)) summary.result_rows = String(countLines(body));
    await this.afterStatement(conn, input.statement);
    return { body, format, summary };
  }

  /** Read-only look-ups authorization makes on the connection that will run `input`. */
  probe(conn: EngineConnection, input: QueryInput): EngineProbe {
    return {
      explain: async (sql) => {
        await this.prepare(conn, input);
        const r = await this.query(conn, `EXPLAIN QUERY TREE ${sql}`, "TabSeparated", input.params);
        return Buffer.from(r.bytes).toString("utf8");
      },
      listTables: async () => {
        const text = await this.text(conn, "SELECT database, name FROM system.tables");
        return text
          .split("\n")
          .filter((line) => line.includes("\t"))
          .map((line) => {
            const [database, table] = line.split("\t").map(unescapeTsv) as [string, string];
            return { database, table };
          });
      },
    };
  }

  private query(conn: EngineConnection, sql: string, format: string, params: Readonly<Record<string, string>>): Promise<{ bytes: Uint8Array; rowsRead: number; bytesRead: number }> {
    if (Object.keys(params).length === 0) return this.native.QueryAsyncConnection(conn.handle, sql, format);
    return this.paramLock.run(() => this.native.QueryAsyncConnection(conn.handle, sql, format, { ...params }));
  }

  /**
   * An INSERT whose rows come from the statement itself (`INSERT ... SELECT`, `VALUES`): chDB's
   * query call reports only result rows, its insert call the rows written, so the statement
   * runs as an insert with no data. That call binds no parameters: they are set on the
   * connection (`SET param_x = 'text'`, the text a bound parameter has), and cleared after
   * by a bound query, which leaves none behind. Only that bound query takes the binding
   * lock: parameters SET on one connection are neither seen nor cleared by bindings on
   * another, so INSERTs with parameters run concurrently, as on a server (held for the
   * whole insert, the lock ran a pipe's files one at a time).
   */
  private async insertWithoutData(conn: EngineConnection, sql: string, params: Readonly<Record<string, string>>): Promise<NativeInsertResult> {
    const run = (): Promise<NativeInsertResult> => this.native.InsertRawAsyncConnection(conn.handle, sql, NO_DATA, false);
    const entries = Object.entries(params);
    if (entries.length === 0) return run();
    await this.native.QueryAsyncConnection(conn.handle, `SET ${entries.map(([k, v]) => `${quoteIdentifier(`param_${k}`)} = ${quoteString(v)}`).join(", ")}`, "TabSeparated");
    try {
      return await run();
    } finally {
      await this.paramLock.run(() => this.native.QueryAsyncConnection(conn.handle, "SELECT 1", "TabSeparated", { clear: "1" }));
    }
  }

  private async text(conn: EngineConnection, sql: string): Promise<string> {
    const r = await this.native.QueryAsyncConnection(conn.handle, sql, "TabSeparated");
    return Buffer.from(r.bytes).toString("utf8");
  }

  /** Move the connection's settings and current database to what this request needs. */
  private async prepare(conn: EngineConnection, input: QueryInput): Promise<void> {
    const changes = conn.settings.plan(conn.settings.desired(input.settings));
    if (changes.size > 0) {
      try {
        await this.native.QueryAsyncConnection(conn.handle, setStatement(changes), "TabSeparated");
      } catch (err) {
        conn.settings.invalidate();
        throw toFrontError(err);
      }
      conn.settings.commit(changes);
    }
    const database = input.database ?? conn.stickyDatabase ?? "default";
    if (database !== conn.database) {
      await this.native.QueryAsyncConnection(conn.handle, `USE ${quoteIdentifier(database)}`, "TabSeparated");
      conn.database = database;
    }
  }

  /** SET and USE change the connection: record what they did so the next request can undo or keep it. */
  private async afterStatement(conn: EngineConnection, statement: ParsedStatement): Promise<void> {
    if (statement.kind === "set") {
      const names = setNames(statement.tokens);
      if (names.length === 0) return;
      const list = names.map(quoteString).join(", ");
      const values = parseNameValues(await this.text(conn, `SELECT name, value FROM system.settings WHERE name IN (${list})`));
      conn.settings.observe(values, conn.sessionful);
    } else if (statement.kind === "use") {
      const db = (await this.text(conn, "SELECT currentDatabase()")).trim();
      conn.database = db;
      if (conn.sessionful) conn.stickyDatabase = db;
    }
  }
}

function unescapeTsv(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ t: "\t", n: "\n", "\\": "\\", r: "\r", "0": "\0" })[c] ?? c);
}

function parseNameValues(tsv: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of tsv.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab === -1) continue;
    out.set(unescapeTsv(line.slice(0, tab)), unescapeTsv(line.slice(tab + 1)));
  }
  return out;
}

function emptySummary(): Summary {
  return {
    read_rows: "0",
    read_bytes: "0",
    written_rows: "0",
    written_bytes: "0",
    total_rows_to_read: "0",
    result_rows: "0",
    result_bytes: "0",
    elapsed_ns: "0",
  };
}
