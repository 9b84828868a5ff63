/**
 * Just enough of ClickHouse's lexer for the front to route a statement the way the HTTP
 * server does: find its kind, split an INSERT's inline data from the query, read the output
 * FORMAT, and refuse multi-statements. Nothing here evaluates SQL; chDB does.
 */
import { FrontError } from "./errors.js";

export type TokenKind = "word" | "string" | "quoted" | "number" | "punct";

export interface Token {
  readonly kind: TokenKind;
  /** Raw source text of the token. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Parenthesis/bracket nesting depth at the token. */
  readonly depth: number;
}

function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (c === "\\") j += 2;
    else if (c === quote && sql[j + 1] === quote) j += 2;
    else if (c === quote) return j + 1;
    else j += 1;
  }
  throw new FrontError(62, "SYNTAX_ERROR", `Syntax error: unterminated quoted string at position ${i + 1}`);
}

function skipComment(sql: string, i: number): number {
  const two = sql.slice(i, i + 2);
  if (two === "--" || sql[i] === "#") {
    const nl = sql.indexOf("\n", i);
    return nl === -1 ? sql.length : nl + 1;
  }
  if (two === "/*") {
    const close = sql.indexOf("*/", i + 2);
    if (close === -1) throw new FrontError(62, "SYNTAX_ERROR", `Syntax error: unterminated comment at position ${i + 1}`);
    return close + 2;
  }
  return i;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const NUMBER_PART = /[0-9A-Za-z_.]/;

function scanToken(sql: string, i: number): { kind: TokenKind; end: number } {
  const c = sql[i] ?? "";
  if (c === "'") return { kind: "string", end: skipQuoted(sql, i, "'") };
  if (c === '"' || c === "`") return { kind: "quoted", end: skipQuoted(sql, i, c) };
  if (WORD_START.test(c)) {
    let j = i + 1;
    while (j < sql.length && WORD_PART.test(sql[j] ?? "")) j++;
    return { kind: "word", end: j };
  }
  if (c >= "0" && c <= "9") {
    let j = i + 1;
    while (j < sql.length && NUMBER_PART.test(sql[j] ?? "")) j++;
    return { kind: "number", end: j };
  }
  return { kind: "punct", end: i + 1 };
}

/**
 * Tokens of `sql` up to `stopAt` (exclusive). Stops early right after an INSERT's
 * `FORMAT name`, because what follows is data, not SQL.
 */
export function tokenize(sql: string, stopAt = sql.length): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < stopAt) {
    const c = sql[i] ?? "";
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const afterComment = skipComment(sql, i);
    if (afterComment !== i) {
      i = afterComment;
      continue;
    }
    const { kind, end } = scanToken(sql, i);
    if (c === ")" || c === "]") depth = Math.max(0, depth - 1);
    tokens.push({ kind, text: sql.slice(i, end), start: i, end, depth });
    if (c === "(" || c === "[") depth++;
    i = end;
    if (isInsertFormatName(tokens)) break;
  }
  return tokens;
}

function isInsertFormatName(tokens: readonly Token[]): boolean {
  const n = tokens.length;
  if (n < 3) return false;
  const first = tokens[0] as Token;
  const prev = tokens[n - 2] as Token;
  const last = tokens[n - 1] as Token;
  return upper(first) === "INSERT" && prev.depth === 0 && upper(prev) === "FORMAT" && last.kind === "word";
}

export function upper(t: Token | undefined): string {
  return t && t.kind === "word" ? t.text.toUpperCase() : "";
}

/** Identifier value of a word or a quoted identifier/string token. */
export function identifier(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.kind === "word") return t.text;
  if (t.kind === "quoted" || t.kind === "string") return unquote(t.text);
  return undefined;
}

/** Value of a quoted token ('...', "...", `...`): backslash escapes and doubled quotes. */
export function unquote(text: string): string {
  const body = text.slice(1, -1);
  const q = text[0] ?? "'";
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === "\\" && i + 1 < body.length) {
      const n = body[++i] as string;
      out += ESCAPES[n] ?? n;
    } else if (c === q && body[i + 1] === q) {
      out += q;
      i++;
    } else out += c;
  }
  return out;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", b: "\b", f: "\f" };

export type StatementKind = "insert" | "read" | "set" | "use" | "access" | "other";

const READ_KEYWORDS = new Set(["SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS", "CHECK", "("]);

function isAccessStatement(a: string, b: string, d: string): boolean {
  if (a === "GRANT" || a === "REVOKE") return true;
  const entity = (w: string): boolean => w === "USER" || w === "ROLE";
  if (a === "CREATE" || a === "ALTER" || a === "DROP") return entity(b) || (a === "CREATE" && b === "OR" && entity(d));
  return false;
}

export function statementKind(tokens: readonly Token[]): StatementKind {
  const a = upper(tokens[0]) || (tokens[0]?.text ?? "");
  const b = upper(tokens[1]);
  if (a === "INSERT") return "insert";
  // SET ROLE and SET DEFAULT ROLE change the front's access state, not the engine's settings.
  if (a === "SET") return b === "ROLE" || b === "DEFAULT" ? "access" : "set";
  if (a === "USE") return "use";
  if (isAccessStatement(a, b, upper(tokens[3]))) return "access";
  return READ_KEYWORDS.has(a) ? "read" : "other";
}

export interface ParsedStatement {
  readonly kind: StatementKind;
  readonly tokens: readonly Token[];
  /** The SQL of the statement (for an INSERT with inline data: up to and including the format name). */
  readonly sql: string;
  /** Offset in the text where an INSERT's inline data starts (after FORMAT name and one line break). */
  readonly dataOffset: number | undefined;
  /** The output format named by a top-level FORMAT clause, if any. */
  readonly format: string | undefined;
}

/** ClickHouse: data starts after the first newline following the format name, or after the blanks. */
function dataStart(sql: string, from: number): number {
  let i = from;
  while (i < sql.length && (sql[i] === " " || sql[i] === "\t" || sql[i] === "\f")) i++;
  if (sql[i] === "\r") i++;
  if (sql[i] === "\n") i++;
  return i;
}

function formatClause(tokens: readonly Token[]): string | undefined {
  for (let i = tokens.length - 2; i >= 0; i--) {
    const t = tokens[i] as Token;
    if (t.depth === 0 && upper(t) === "FORMAT") return identifier(tokens[i + 1]);
  }
  return undefined;
}

/**
 * Parse one statement as the HTTP handler does. `sql` may carry an INSERT's inline data
 * after `FORMAT name`. Throws SYNTAX_ERROR for an empty query or multi-statements.
 */
export function parseStatement(sql: string): ParsedStatement {
  const tokens = tokenize(sql);
  const insertFormat = tokens.length >= 3 && isInsertFormatName(tokens);
  const semicolon = tokens.findIndex((t) => t.text === ";" && t.depth === 0);
  if (semicolon !== -1 && semicolon < tokens.length - 1) {
    throw new FrontError(62, "SYNTAX_ERROR", "Syntax error (Multi-statements are not allowed): failed at position " + ((tokens[semicolon] as Token).start + 1));
  }
  const body = semicolon === -1 ? tokens : tokens.slice(0, semicolon);
  if (body.length === 0) throw new FrontError(62, "SYNTAX_ERROR", "Empty query");
  const last = body[body.length - 1] as Token;
  return {
    kind: statementKind(body),
    tokens: body,
    sql: sql.slice(0, last.end),
    dataOffset: insertFormat ? dataStart(sql, last.end) : undefined,
    format: formatClause(body),
  };
}

/** Names assigned by a `SET a = 1, b = 'x'` statement. */
export function setNames(tokens: readonly Token[]): string[] {
  const names: string[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    const prev = tokens[i - 1] as Token;
    const startsItem = i === 1 || (prev.text === "," && prev.depth === 0);
    if (startsItem && t.depth === 0 && next?.text === "=") names.push(identifier(t) ?? t.text);
  }
  return names;
}

/** Target table of an INSERT: `INSERT INTO [TABLE] [db.]table` (undefined for INSERT INTO FUNCTION). */
export function insertTarget(tokens: readonly Token[]): { database: string | undefined; table: string } | undefined {
  let i = 1;
  if (upper(tokens[i]) === "INTO") i++;
  if (upper(tokens[i]) === "TABLE") i++;
  if (upper(tokens[i]) === "FUNCTION") return undefined;
  const first = identifier(tokens[i]);
  if (first === undefined) return undefined;
  if (tokens[i + 1]?.text === ".") {
    const second = identifier(tokens[i + 2]);
    return second === undefined ? undefined : { database: first, table: second };
  }
  return { database: undefined, table: first };
}

/** Quote a name as a ClickHouse identifier. */
export function quoteIdentifier(name: string): string {
  return "`" + name.replaceAll("\\", "\\\\").replaceAll("`", "\\`") + "`";
}

/** Quote a value as a ClickHouse string literal. */
export function quoteString(value: string): string {
  return "'" + value.replaceAll("\\", "\\\\").replaceAll("'", "\\'") + "'";
}
