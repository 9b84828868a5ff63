/**
 * The ingest core's one error hierarchy. Every error says whether retrying can help
 * (`retriable`) and carries the context needed to act on it; Kafka and ClickHouse errors
 * are mapped into it at the edges so the retrier and the error router decide from one flag.
 */

/** Error types written to the error table and to clickpipes_log; stable strings, users filter on them. */
export const ErrorType = {
  decode: "DECODE_ERROR",
  type: "TYPE_ERROR",
  insert: "INSERT_ERROR",
  /** A record for a table the pipe does not write (multi-table sources). */
  route: "ROUTE_ERROR",
  config: "CONFIG_ERROR",
  schema: "SCHEMA_MISMATCH",
  source: "SOURCE_ERROR",
  destination: "DESTINATION_ERROR",
  /** ClickPipes' name: the schema a record names is not in the registry, or is not of the pipe's format. */
  sourceSchema: "SOURCE_SCHEMA_ERROR",
  /** ClickPipes' name: the record's bytes do not decode in the pipe's format (Avro, Protobuf, CSV...). */
  dataParsing: "DATA_PARSING_ERROR",
} as const;
export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

export class IngestError extends Error {
  readonly retriable: boolean;
  readonly errorType: ErrorTypeName;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    message: string,
    opts: { errorType: ErrorTypeName; retriable: boolean; cause?: unknown; context?: Record<string, unknown> },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.errorType = opts.errorType;
    this.retriable = opts.retriable;
    this.context = opts.context ?? {};
  }
}

/** The pipe cannot work as configured (bad spec, unsupported auth, missing secret): never retried. */
export class ConfigError extends IngestError {
  constructor(message: string, context?: Record<string, unknown>) {
    super(message, { errorType: ErrorType.config, retriable: false, context });
  }
}

/** The existing destination table does not match the pipe's columns; each mismatch is listed. */
export class SchemaMismatchError extends IngestError {
  readonly mismatches: readonly string[];

  constructor(table: string, mismatches: readonly string[]) {
    super(`destination table ${table} does not match the pipe: ${mismatches.join("; ")}`, {
      errorType: ErrorType.schema,
      retriable: false,
      context: { table },
    });
    this.mismatches = mismatches;
  }
}

/** The source (Kafka broker) failed; retriable unless the client says it can never succeed. */
export class SourceError extends IngestError {
  constructor(message: string, opts: { retriable: boolean; cause?: unknown; context?: Record<string, unknown> }) {
    super(message, { errorType: ErrorType.source, ...opts });
  }
}

/**
 * ClickHouse refused or could not be reached. `dataError`: ClickHouse refused the data itself
 * (parse, type, constraint), so the batch is bisected into record errors; any other refusal
 * (unknown table, access denied, server down) is a system error and is retried.
 */
export class DestinationError extends IngestError {
  readonly code: number | undefined;
  readonly dataError: boolean;

  constructor(message: string, opts: { retriable: boolean; dataError?: boolean; code?: number; cause?: unknown; context?: Record<string, unknown> }) {
    super(message, { errorType: ErrorType.destination, retriable: opts.retriable, cause: opts.cause, context: opts.context });
    this.code = opts.code;
    this.dataError = opts.dataError ?? false;
  }
}

/** True when ClickHouse refused the data of an insert (the rows), not the insert itself. */
export function isDataError(err: unknown): boolean {
  return err instanceof DestinationError && err.dataError;
}

/** One record that cannot become a row; it goes to the error table, never retried. */
export class RecordError extends IngestError {
  constructor(errorType: ErrorTypeName, message: string, context?: Record<string, unknown>) {
    super(message, { errorType, retriable: false, context });
  }
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof IngestError) return err.retriable;
  if (typeof err === "object" && err !== null && "retriable" in err) return err.retriable === true;
  return false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
