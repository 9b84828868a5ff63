import { classifyClickHouseError } from "../clickhouse/errors.js";
import { DestinationError } from "./errors.js";

/**
 * ClickHouse failure → DestinationError. The server's code decides; a failure the
 * classifier cannot place (no server code, no known network code) is retried too, since
 * giving up would route good rows to the error table.
 */
export function destinationError(err: unknown, context: Record<string, unknown>): DestinationError {
  if (err instanceof DestinationError) return err;
  const classified = classifyClickHouseError(err);
  const retriable = classified.retriable || classified.kind === "unknown";
  const code = typeof classified.code === "number" ? classified.code : undefined;
  return new DestinationError(classified.message, { retriable, ...(code === undefined ? {} : { code }), cause: classified, context });
}
