import { compileCoercer } from "./src/clickhouse/coerce.js";
import { parseType } from "./src/clickhouse/type-parser.js";
const cols: [string, string, (i: number) => unknown][] = [
  ["id", "UInt64", (i) => i],
  ["ts", "DateTime64(3, 'UTC')", () => "2024-05-01T12:34:56.789Z"],
  ["user_id", "Int64", (i) => i * 7],
  ["name", "String", (i) => `user-${i}`],
  ["email", "String", (i) => `u${i}@example.com`],
  ["country", "LowCardinality(String)", () => "DE"],
  ["city", "Nullable(String)", (i) => (i % 3 ? "Berlin" : null)],
  ["age", "UInt8", (i) => i % 90],
  ["score", "Float64", (i) => i / 3],
  ["ratio", "Float32", () => 0.25],
  ["amount", "Decimal(18,4)", () => "1234.5678"],
  ["active", "Bool", () => true],
  ["session", "UUID", () => "123e4567-e89b-12d3-a456-426614174000"],
  ["tags", "Array(String)", () => ["a", "b", "c"]],
  ["attrs", "Map(String, String)", () => ({ k1: "v1", k2: "v2" })],
  ["day", "Date", () => "2024-05-01"],
  ["ip", "IPv4", () => "10.1.2.3"],
  ["level", "Enum8('debug' = 1, 'info' = 2, 'warn' = 3)", () => "info"],
  ["count", "Int32", (i) => i % 1000],
  ["created", "DateTime", () => "2024-05-01T12:34:56Z"],
];
const coercers = cols.map(([n, t]) => [n, compileCoercer(parseType(t))] as const);
const N = 2000;
const rows = Array.from({ length: N }, (_, i) => JSON.parse(JSON.stringify(Object.fromEntries(cols.map(([n, , g]) => [n, g(i)])))) as Record<string, unknown>);
function run(iter: number, stringify: boolean): number {
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  for (let k = 0; k < iter; k++) {
    for (const r of rows) {
      const out: Record<string, unknown> = {};
      for (const [n, c] of coercers) out[n] = c(r[n]);
      if (stringify) bytes += JSON.stringify(out).length;
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (iter * N) / s + bytes * 0;
}
run(50, false);
const line = (label: string, f: () => number): void => { const rs = [f(), f(), f()]; console.log(label, Math.round(Math.max(...rs)), "rows/s"); };
line("coerce only", () => run(100, false));
line("coerce+stringify", () => run(100, true));
line("stringify only (no coercion)", () => { const t0 = process.hrtime.bigint(); let b = 0; for (let k = 0; k < 100; k++) for (const r of rows) b += JSON.stringify(r).length; return (100 * N) / (Number(process.hrtime.bigint() - t0) / 1e9) + b * 0; });
