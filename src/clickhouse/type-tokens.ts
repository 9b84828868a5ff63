/**
 * The tokenizer of ClickHouse type strings: identifiers (plain, backticked or double-quoted),
 * numbers, single-quoted strings and punctuation, each with its position for error messages.
 */
import { ParseTypeError } from "./type-model.js";

export type Token =
  | { readonly t: "ident"; readonly v: string; readonly pos: number }
  | { readonly t: "number"; readonly v: string; readonly pos: number }
  | { readonly t: "string"; readonly v: string; readonly pos: number }
  | { readonly t: "punct"; readonly v: "(" | ")" | "," | "="; readonly pos: number }
  | { readonly t: "end"; readonly v: ""; readonly pos: number };

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function readQuoted(text: string, start: number, quote: string): { value: string; end: number } {
  let out = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "\\" && i + 1 < text.length) {
      out += text[i + 1];
      i += 2;
    } else if (c === quote && text[i + 1] === quote) {
      out += quote;
      i += 2;
    } else if (c === quote) {
      return { value: out, end: i + 1 };
    } else {
      out += c;
      i += 1;
    }
  }
  throw new ParseTypeError(text, start, `unterminated ${quote} quote`);
}

function readWhile(text: string, start: number, pred: (c: string) => boolean): number {
  let i = start;
  while (i < text.length && pred(text[i] as string)) i += 1;
  return i;
}

/** Reads the token starting at `i` (not whitespace); returns it and where the next one starts. */
function readToken(text: string, i: number): { token: Token; end: number } {
  const c = text[i] as string;
  if (c === "(" || c === ")" || c === "," || c === "=") return { token: { t: "punct", v: c, pos: i }, end: i + 1 };
  if (c === "'") {
    const q = readQuoted(text, i, "'");
    return { token: { t: "string", v: q.value, pos: i }, end: q.end };
  }
  if (c === "`" || c === '"') {
    const q = readQuoted(text, i, c);
    return { token: { t: "ident", v: q.value, pos: i }, end: q.end };
  }
  if (isDigit(c) || ((c === "-" || c === "+") && isDigit(text[i + 1] ?? ""))) {
    const end = readWhile(text, i + 1, (d) => isDigit(d) || d === ".");
    return { token: { t: "number", v: text.slice(i, end), pos: i }, end };
  }
  if (isIdentStart(c)) {
    const end = readWhile(text, i + 1, (d) => isIdentStart(d) || isDigit(d) || d === ".");
    return { token: { t: "ident", v: text.slice(i, end), pos: i }, end };
  }
  throw new ParseTypeError(text, i, `unexpected character ${JSON.stringify(c)}`);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = readWhile(text, 0, isSpace);
  while (i < text.length) {
    const { token, end } = readToken(text, i);
    tokens.push(token);
    i = readWhile(text, end, isSpace);
  }
  tokens.push({ t: "end", v: "", pos: text.length });
  return tokens;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}
