import { Readable } from "node:stream";
import type { ClickHouseClient } from "@clickhouse/client";
import { errorRowLine } from "./error-row.js";
import { DestinationError } from "./errors.js";
import { framesFailure } from "./frame-passthrough.js";

/** Maps any failure of a ClickHouse call into the ingest hierarchy (retriable or not). */
export type DestinationClassifier = (err: unknown, context: Record<string, unknown>) => DestinationError;

export interface ErrorRow {
  readonly time: string;
  readonly pipe: string;
  readonly error_type: string;
  readonly message: string;
  /** The record's bytes: text when they are valid UTF-8, else the exact bytes (see error-row.ts). */
  readonly raw_message: string | Buffer;
  readonly source_position: string;
}

export interface StateRow {
  readonly pipe: string;
  readonly source_position: string;
  readonly rows: number;
  readonly bytes: number;
  readonly record_errors: number;
  readonly batches: number;
  readonly position: string;
  readonly lag: number;
  readonly last_insert_time: string;
}

export interface LogRow {
  readonly time: string;
  readonly pipe: string;
  readonly level: string;
  readonly error_type: string;
  readonly message: string;
}

/** DateTime64(3) text in the `basic` input format a ClickHouse server accepts by default. */
export function chTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

function quote(name: string): string {
  return "`" + name.replaceAll("\\", "\\\\").replaceAll("`", "\\`") + "`";
}

/**
 * Settings for a batch of records passed through as their own JSON: unknown keys are
 * ignored (as the mapper ignores them), ISO 8601 times are read as the coercer reads them,
 * and a null in a non-Nullable column becomes the column's default, as the coercer does.
 */
const PASSTHROUGH_SETTINGS = {
  input_format_skip_unknown_fields: 1,
  date_time_input_format: "best_effort",
  input_format_null_as_default: 1,
  // One parsing thread: ~10% less server CPU per 20 MB JSON body than the parallel parser's
  // segmenting and thread hand-offs (measured on ClickHouse 26.7), for ~0.15 s more per insert,
  // which overlaps the next batch filling anyway.
  input_format_parallel_parsing: 0,
} as const;

/**
 * Frames ClickHouse decodes (frame-passthrough.ts): concatenated records in `format`. A field
 * the writer's schema lacks fills its column with the default, as the consumer's decode does.
 */
export interface InsertFrames {
  readonly format: string;
  readonly settings: Readonly<Record<string, string>>;
}
const FRAME_SETTINGS = { input_format_avro_allow_missing_fields: 1, input_format_null_as_default: 1 } as const;

/** Where batches go; the pipeline depends on this shape only. */
export interface DestinationSink {
  /**
   * A JSONEachRow body (one buffer or chunks in order) for a destination table; `passthrough`
   * when it holds records' own JSON. Its buffers are reused for later batches once this batch
   * is committed: a sink must not keep them after the returned promise settles.
   */
  insertBody(table: string, body: Buffer | readonly Buffer[], passthrough: boolean, frames?: InsertFrames): Promise<void>;
  /** Rows for the error table beside `table`. */
  insertErrors(table: string, rows: readonly ErrorRow[]): Promise<void>;
  insertState(rows: readonly StateRow[]): Promise<void>;
  insertLog(rows: readonly LogRow[]): Promise<void>;
  /** Runs one statement that moves data into a destination table (a source's bulk insert); resolves with the rows it wrote. */
  insertStatement?(statement: StatementRequest): Promise<{ rows: number }>;
}

export interface StatementRequest {
  /** The destination table the statement writes (unquoted). */
  readonly table: string;
  /** The statement and its parameters, given the table's quoted `db`.`name`. */
  readonly build: (qualifiedTable: string) => { readonly query: string; readonly params?: Readonly<Record<string, string>> };
  readonly settings?: Readonly<Record<string, string | number>>;
  readonly body?: NodeJS.ReadableStream;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The thin I/O edge to ClickHouse: inserts rows, error rows, state rows and log rows into one database. */
export class ClickHouseSink implements DestinationSink {
  private readonly stateTable: string;
  private readonly logTable: string;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly classify: DestinationClassifier,
    /** For insertStatement: a client whose timeout outlasts a long `INSERT ... SELECT` (BULK_CLIENT_OPTIONS). */
    private readonly bulkClient: ClickHouseClient = client,
  ) {
    this.stateTable = this.qualified("clickpipes_state");
    this.logTable = this.qualified("clickpipes_log");
  }

  /** Insert a JSONEachRow body into a destination table. */
  async insertBody(table: string, body: Buffer | readonly Buffer[], passthrough: boolean, frames?: InsertFrames): Promise<void> {
    if (frames !== undefined) {
      // The format's settings may carry the registry's credentials: they go as query settings, never into the query text or a log.
      await this.exec(`INSERT INTO ${this.qualified(table)} FORMAT ${frames.format}`, body, { ...FRAME_SETTINGS, ...frames.settings }).catch((err: unknown) => {
        throw framesFailure(err);
      });
      return;
    }
    await this.exec(`INSERT INTO ${this.qualified(table)} FORMAT JSONEachRow`, body, passthrough ? PASSTHROUGH_SETTINGS : {});
  }

  async insertErrors(table: string, rows: readonly ErrorRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.exec(`INSERT INTO ${this.qualified(`${table}_clickpipes_error`)} FORMAT JSONEachRow`, rows.map(errorRowLine), {});
  }

  async insertState(rows: readonly StateRow[]): Promise<void> {
    await this.insertObjects(this.stateTable, rows);
  }

  async insertLog(rows: readonly LogRow[]): Promise<void> {
    await this.insertObjects(this.logTable, rows);
  }

  /**
   * A bulk statement; the rows are those its X-ClickHouse-Summary reports written (or read,
   * whichever is more). A server sends that header once an INSERT without output ends, so
   * it is complete; a deduplicated retry reports its rows too (the engine counts blocks
   * before it drops duplicates).
   * The statement's text goes into error contexts only up to its table function's name,
   * and secrets travel as query parameters, so neither reaches a log.
   */
  async insertStatement(req: StatementRequest): Promise<{ rows: number }> {
    const { query, params } = req.build(this.qualified(req.table));
    try {
      const result = await this.bulkClient.exec({
        query,
        clickhouse_settings: { ...req.settings },
        ...(params === undefined ? {} : { query_params: { ...params } }),
        ...(req.headers === undefined ? {} : { http_headers: { ...req.headers } }),
        ...(req.body === undefined ? {} : { values: Readable.from(req.body) }),
      });
      for await (const chunk of result.stream) void chunk;
      const summary = result.summary;
      const rows = Math.max(Number(summary?.written_rows ?? 0), Number(summary?.read_rows ?? 0));
      return { rows };
    } catch (err) {
      throw this.classify(err, { table: req.table, statement: query.slice(0, 60) });
    }
  }

  private qualified(table: string): string {
    return `${quote(this.database)}.${quote(table)}`;
  }

  private async insertObjects(table: string, rows: readonly object[]): Promise<void> {
    if (rows.length === 0) return;
    const body = Buffer.from(rows.map((r) => JSON.stringify(r)).join("\n"));
    await this.exec(`INSERT INTO ${table} FORMAT JSONEachRow`, body, {});
  }

  private async exec(query: string, body: Buffer | readonly Buffer[] | undefined, settings: Record<string, string | number>): Promise<void> {
    try {
      const chunks = body === undefined ? undefined : Buffer.isBuffer(body) ? [body] : body;
      const result = await this.client.exec({
        query,
        clickhouse_settings: settings,
        ...(chunks === undefined ? {} : { values: Readable.from(chunks, { objectMode: false }) }),
      });
      // The response body must be consumed or the socket is never released to the pool.
      for await (const chunk of result.stream) void chunk;
    } catch (err) {
      throw this.classify(err, { query: query.slice(0, 120) });
    }
  }
}
