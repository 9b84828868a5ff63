import { SourceError, errorMessage } from "../../ingest/errors.js";

/**
 * Kinesis errors (AWS SDK exceptions, by name) sorted into what the read loop does with
 * them. The SDK retries some itself; these are what is left once it gives up.
 */
export type KinesisFailure =
  /** Over the shard's or account's limits: back off and try again. */
  | "throttled"
  /** The shard iterator is older than 5 minutes (a long backpressure wait): get a new one after the last record. */
  | "expiredIterator"
  /** Credentials, permissions, a missing stream, the network: may heal (fixed Secret, recreated stream); retried with backoff. */
  | "retriable"
  /** A request we built wrongly: retrying cannot help. */
  | "fatal";

const THROTTLED = new Set(["ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException", "KMSThrottlingException", "TooManyRequestsException"]);
const FATAL = new Set(["InvalidArgumentException", "ValidationException", "SerializationException"]);

export function errorName(err: unknown): string {
  if (typeof err === "object" && err !== null && "name" in err && typeof err.name === "string") return err.name;
  return "Error";
}

export function classifyKinesisError(err: unknown): KinesisFailure {
  const name = errorName(err);
  if (THROTTLED.has(name)) return "throttled";
  if (name === "ExpiredIteratorException") return "expiredIterator";
  if (FATAL.has(name)) return "fatal";
  return "retriable";
}

/** An AWS failure as the ingest core's SourceError, with the stream/shard it concerns. */
export function kinesisError(what: string, err: unknown, context: Record<string, unknown>): SourceError {
  return new SourceError(`${what}: ${errorName(err)}: ${errorMessage(err)}`, {
    retriable: classifyKinesisError(err) !== "fatal",
    cause: err,
    context,
  });
}
