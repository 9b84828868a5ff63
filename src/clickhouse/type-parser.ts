/**
 * Parses ClickHouse column type strings (as users write them in a ClickPipe spec and as
 * `system.columns` reports them) into a small AST that the coercer, the DDL builder and
 * the schema check share.
 */
import { formatType } from "./type-format.js";
import { ParseTypeError, type ChType, type EnumMember, type TupleElement } from "./type-model.js";
import { tokenize, type Token } from "./type-tokens.js";

// The parser's callers import the whole type toolkit from here.
export { ParseTypeError, type ChType, type ChTypeKind, type EnumMember, type IntBits, type TupleElement } from "./type-model.js";
export { formatType, sameType } from "./type-format.js";

const simpleTypes: ReadonlyMap<string, ChType> = new Map<string, ChType>([
  ...([8, 16, 32, 64, 128, 256] as const).flatMap((bits): [string, ChType][] => [
    [`int${bits}`, { kind: "int", signed: true, bits }],
    [`uint${bits}`, { kind: "int", signed: false, bits }],
  ]),
  ["float32", { kind: "float", bits: 32 }],
  ["float64", { kind: "float", bits: 64 }],
  ["bfloat16", { kind: "bfloat16" }],
  ["bool", { kind: "bool" }],
  ["boolean", { kind: "bool" }],
  ["string", { kind: "string" }],
  ["date", { kind: "date" }],
  ["date32", { kind: "date32" }],
  ["uuid", { kind: "uuid" }],
  ["ipv4", { kind: "ipv4" }],
  ["ipv6", { kind: "ipv6" }],
  ["json", { kind: "json" }],
  ["dynamic", { kind: "dynamic" }],
  // SQL-standard aliases ClickHouse accepts (and reports back under the canonical name).
  ["tinyint", { kind: "int", signed: true, bits: 8 }],
  ["smallint", { kind: "int", signed: true, bits: 16 }],
  ["int", { kind: "int", signed: true, bits: 32 }],
  ["integer", { kind: "int", signed: true, bits: 32 }],
  ["bigint", { kind: "int", signed: true, bits: 64 }],
  ["float", { kind: "float", bits: 32 }],
  ["double", { kind: "float", bits: 64 }],
  ["text", { kind: "string" }],
  ["varchar", { kind: "string" }],
]);

const decimalPrecisions: ReadonlyMap<string, number> = new Map([
  ["decimal32", 9],
  ["decimal64", 18],
  ["decimal128", 38],
  ["decimal256", 76],
]);

type ArgsParser = (name: string, pos: number) => ChType;

class Parser {
  private i = 0;
  private readonly tokens: Token[];
  private readonly withArgs: ReadonlyMap<string, ArgsParser>;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
    this.withArgs = new Map<string, ArgsParser>([
      ...["decimal", "numeric", ...decimalPrecisions.keys()].map((n): [string, ArgsParser] => [n, (name) => this.decimal(name)]),
      ["fixedstring", () => ({ kind: "fixedString", length: this.intArg(1, 0xffffff, "FixedString length") })],
      ["datetime", () => this.dateTime()],
      ["datetime64", () => this.dateTime64()],
      ["enum8", () => ({ kind: "enum", bits: 8, members: this.enumMembers(8) })],
      ["enum16", () => ({ kind: "enum", bits: 16, members: this.enumMembers(16) })],
      ["enum", () => this.autoEnum()],
      ["lowcardinality", () => ({ kind: "lowCardinality", inner: this.type() })],
      ["nullable", (_n, pos) => this.nullable(pos)],
      ["array", () => ({ kind: "array", element: this.type() })],
      ["map", () => this.map()],
      ["tuple", () => ({ kind: "tuple", elements: this.tupleElements() })],
      ["variant", () => ({ kind: "variant", variants: this.list(() => this.type()) })],
      ["simpleaggregatefunction", () => this.simpleAggregate()],
      ["object", (_n, pos) => this.objectJson(pos)],
      ["json", () => this.skipArgs({ kind: "json" })],
      ["dynamic", () => this.skipArgs({ kind: "dynamic" })],
    ]);
  }

  parse(): ChType {
    const type = this.type();
    const tok = this.peek();
    if (tok.t !== "end") this.fail(tok.pos, `unexpected ${JSON.stringify(tok.v)} after the type`);
    return type;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const tok = this.peek();
    if (tok.t !== "end") this.i += 1;
    return tok;
  }

  private fail(pos: number, reason: string): never {
    throw new ParseTypeError(this.text, pos, reason);
  }

  private isPunct(v: string, offset = 0): boolean {
    const tok = this.peek(offset);
    return tok.t === "punct" && tok.v === v;
  }

  private expect(v: "(" | ")" | "," | "="): void {
    const tok = this.next();
    if (tok.t !== "punct" || tok.v !== v) {
      this.fail(tok.pos, `expected "${v}" but found ${tok.t === "end" ? "end of input" : JSON.stringify(tok.v)}`);
    }
  }

  private type(): ChType {
    const tok = this.next();
    if (tok.t !== "ident") this.fail(tok.pos, `expected a type name but found ${tok.t === "end" ? "end of input" : JSON.stringify(tok.v)}`);
    const name = tok.v.toLowerCase();
    if (this.isPunct("(")) {
      const parseArgs = this.withArgs.get(name);
      if (name === "nested") this.fail(tok.pos, "Nested columns are not supported; use Array(Tuple(...)) instead");
      if (!parseArgs) this.fail(tok.pos, `type ${tok.v} does not take arguments or is not supported`);
      this.expect("(");
      const type = parseArgs(tok.v, tok.pos);
      this.expect(")");
      return type;
    }
    const simple = simpleTypes.get(name) ?? this.noArgsDefault(name);
    if (!simple) this.fail(tok.pos, `unknown or unsupported type ${JSON.stringify(tok.v)}`);
    return simple;
  }

  /** Types whose arguments are optional. */
  private noArgsDefault(name: string): ChType | undefined {
    if (name === "datetime") return { kind: "dateTime" };
    if (name === "decimal") return { kind: "decimal", precision: 10, scale: 0 };
    return undefined;
  }

  private list<T>(item: () => T): T[] {
    const items = [item()];
    while (this.isPunct(",")) {
      this.next();
      items.push(item());
    }
    return items;
  }

  private intArg(min: number, max: number, what: string): number {
    const tok = this.next();
    const n = tok.t === "number" ? Number(tok.v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(tok.pos, `${what} must be an integer in ${min}..${max}, got ${JSON.stringify(tok.v)}`);
    }
    return n;
  }

  private stringArg(what: string): string {
    const tok = this.next();
    if (tok.t !== "string") this.fail(tok.pos, `${what} must be a quoted string, got ${JSON.stringify(tok.v)}`);
    return tok.v;
  }

  private decimal(name: string): ChType {
    const fixed = decimalPrecisions.get(name.toLowerCase());
    if (fixed !== undefined) return { kind: "decimal", precision: fixed, scale: this.intArg(0, fixed, "Decimal scale") };
    const precision = this.intArg(1, 76, "Decimal precision");
    if (!this.isPunct(",")) return { kind: "decimal", precision, scale: 0 };
    this.next();
    return { kind: "decimal", precision, scale: this.intArg(0, precision, "Decimal scale") };
  }

  private dateTime(): ChType {
    if (this.isPunct(")")) return { kind: "dateTime" };
    return { kind: "dateTime", timezone: this.stringArg("DateTime timezone") };
  }

  private dateTime64(): ChType {
    const precision = this.intArg(0, 9, "DateTime64 precision");
    if (!this.isPunct(",")) return { kind: "dateTime64", precision };
    this.next();
    return { kind: "dateTime64", precision, timezone: this.stringArg("DateTime64 timezone") };
  }

  private enumMember(): { name: string; value: number | undefined; pos: number } {
    const pos = this.peek().pos;
    const name = this.stringArg("Enum member name");
    if (!this.isPunct("=")) return { name, value: undefined, pos };
    this.next();
    return { name, value: this.intArg(-32768, 65535, "Enum value"), pos };
  }

  private enumMembers(bits: 8 | 16): EnumMember[] {
    const [min, max] = bits === 8 ? [-128, 127] : [-32768, 32767];
    const raw = this.list(() => this.enumMember());
    const names = new Set<string>();
    const values = new Set<number>();
    let nextValue = 1;
    return raw.map((m) => {
      const value = m.value ?? nextValue;
      if (value < min || value > max) this.fail(m.pos, `Enum${bits} value ${value} of '${m.name}' is outside ${min}..${max}`);
      if (names.has(m.name)) this.fail(m.pos, `duplicate Enum name '${m.name}'`);
      if (values.has(value)) this.fail(m.pos, `duplicate Enum value ${value}`);
      names.add(m.name);
      values.add(value);
      nextValue = value + 1;
      return { name: m.name, value };
    });
  }

  private autoEnum(): ChType {
    const start = this.i;
    const members = this.enumMembers(16);
    if (members.every((m) => m.value >= -128 && m.value <= 127)) return { kind: "enum", bits: 8, members };
    this.i = start;
    return { kind: "enum", bits: 16, members: this.enumMembers(16) };
  }

  private nullable(pos: number): ChType {
    const inner = this.type();
    if (inner.kind === "nullable" || inner.kind === "lowCardinality" || inner.kind === "array" || inner.kind === "map" || inner.kind === "tuple") {
      this.fail(pos, `Nullable cannot wrap ${formatType(inner)}`);
    }
    return { kind: "nullable", inner };
  }

  private map(): ChType {
    const key = this.type();
    this.expect(",");
    return { kind: "map", key, value: this.type() };
  }

  private tupleElement(): TupleElement {
    const tok = this.peek();
    const after = this.peek(1);
    // `name Type`: an identifier followed by another identifier (the type) is a field name.
    if (tok.t === "ident" && after.t === "ident") {
      this.next();
      return { name: tok.v, type: this.type() };
    }
    return { type: this.type() };
  }

  private tupleElements(): TupleElement[] {
    const elements = this.list(() => this.tupleElement());
    const named = elements.filter((e) => e.name !== undefined).length;
    if (named !== 0 && named !== elements.length) this.fail(this.peek().pos, "a Tuple must name all of its elements or none");
    return elements;
  }

  private simpleAggregate(): ChType {
    const fn = this.next();
    if (fn.t !== "ident") this.fail(fn.pos, "SimpleAggregateFunction needs a function name");
    if (this.isPunct("(")) this.skipBalanced();
    this.expect(",");
    return this.type();
  }

  private objectJson(pos: number): ChType {
    const kind = this.stringArg("Object type");
    if (kind.toLowerCase() !== "json") this.fail(pos, `only Object('json') is supported, got Object('${kind}')`);
    return { kind: "json" };
  }

  /** JSON(max_dynamic_paths=…, a.b UInt32, SKIP x) hints do not change how values are sent. */
  private skipArgs(type: ChType): ChType {
    let depth = 0;
    while (depth > 0 || !this.isPunct(")")) {
      const tok = this.next();
      if (tok.t === "end") this.fail(tok.pos, "unbalanced parentheses");
      if (tok.t === "punct" && tok.v === "(") depth += 1;
      if (tok.t === "punct" && tok.v === ")") depth -= 1;
    }
    return type;
  }

  private skipBalanced(): void {
    this.expect("(");
    this.skipArgs({ kind: "json" });
    this.expect(")");
  }
}

/** Parse a ClickHouse type string; throws ParseTypeError with the position of the problem. */
export function parseType(text: string): ChType {
  return new Parser(text).parse();
}
