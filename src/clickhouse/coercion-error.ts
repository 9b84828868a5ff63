/** Longest rendering of an offending value in a message; the raw record is kept elsewhere. */
const MAX_VALUE_TEXT = 80;

function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? `a ${typeof value}`;
  } catch (e) {
    // A cyclic or exotic value cannot be JSON; say what it is rather than fail the message.
    text = `${Object.prototype.toString.call(value)} (${e instanceof Error ? e.message : "unserialisable"})`;
  }
  return text.length > MAX_VALUE_TEXT ? `${text.slice(0, MAX_VALUE_TEXT)}…` : text;
}

/**
 * A source value that does not fit a ClickHouse column type. `path` locates the element
 * inside a composite value (`[3]`, `.key`, `[1].name`); `column` is set by the caller
 * that knows which column the value was meant for.
 */
export class CoercionError extends Error {
  override readonly name = "CoercionError";

  constructor(
    readonly expected: string,
    readonly value: unknown,
    readonly reason: string,
    readonly path = "",
    readonly column?: string,
  ) {
    super(CoercionError.render(expected, value, reason, path, column));
  }

  private static render(expected: string, value: unknown, reason: string, path: string, column: string | undefined): string {
    const where = column === undefined ? (path === "" ? "" : `at ${path}: `) : `column "${column}"${path === "" ? "" : ` at ${path}`}: `;
    return `${where}expected ${expected}, got ${describeValue(value)} (${reason})`;
  }

  /** The same error located one level further out (`segment` is `[i]` or `.name`). */
  within(segment: string): CoercionError {
    return new CoercionError(this.expected, this.value, this.reason, segment + this.path, this.column);
  }

  /** The same error naming the destination column, e.g. `column "price": expected Decimal(10, 2), got "abc" (...)`. */
  withColumn(column: string): CoercionError {
    return new CoercionError(this.expected, this.value, this.reason, this.path, column);
  }
}

export function fail(expected: string, value: unknown, reason: string): never {
  throw new CoercionError(expected, value, reason);
}
