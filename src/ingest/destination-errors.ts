import { classifyClickHouseError } from "../clickhouse/errors.js";
import { DestinationError } from "./errors.js";

/**
 * ClickHouse failure → DestinationError, the one insert-error policy: a refusal of the data
 * (ClickHouse's data error codes) is not retriable and the pipeline bisects it into record
 * errors; every other failure (unknown table, access denied, missing column, read-only,
 * server down, or one the classifier cannot place) is a system error and is retried, since
 * giving up would turn good rows into error rows or drop them.
 */
export function destinationError(err: unknown, context: Record<string, unknown>): DestinationError {
  if (err instanceof DestinationError) return err;
  const classified = classifyClickHouseError(err);
  const code = typeof classified.code === "number" ? classified.code : undefined;
  return new DestinationError(classified.message, {
    retriable: !classified.dataError,
    dataError: classified.dataError,
    ...(code === undefined ? {} : { code }),
    cause: classified,
    context,
  });
}
