import { CoercionError, compileCoercer } from "../../src/clickhouse/coerce.js";
import { parseType } from "../../src/clickhouse/type-parser.js";

/** Coerce one value for a ClickHouse type given as text. */
export function coerce(type: string, value: unknown): unknown {
  return compileCoercer(parseType(type))(value);
}

/** The CoercionError a value must raise; fails the test when the coercer accepts it. */
export function rejection(type: string, value: unknown): CoercionError {
  try {
    coerce(type, value);
  } catch (e) {
    if (e instanceof CoercionError) return e;
    throw e;
  }
  throw new Error(`${type} accepted ${JSON.stringify(value)}`);
}
