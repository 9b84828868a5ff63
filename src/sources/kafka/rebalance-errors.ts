/** Protocol errors that only mean this member lost its partitions: the new owner re-reads them (duplicates, never loss). */
const REBALANCE_ERRORS = new Set(["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID"]);

/**
 * True when `err` is, or wraps, a rebalance error. kafkajs' retrier re-throws a protocol error
 * it will not retry as a KafkaJSNonRetriableError that keeps the message but not the `type`;
 * the protocol error is its `cause`. Missing it made a commit after the member was evicted
 * (the broker frozen past the session timeout) retry for ever inside the fetch handler, so
 * kafkajs could never rejoin.
 */
export function isRebalanceError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === "object" && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === "string" && REBALANCE_ERRORS.has(type)) return true;
  }
  return false;
}
