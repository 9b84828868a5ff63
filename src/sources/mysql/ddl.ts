/**
 * Schema changes read from the binlog's QUERY events (pure). Only what changes a replicated
 * table's columns is recognised: `ALTER TABLE [db.]t ADD [COLUMN] c type ..., DROP [COLUMN] c`
 * (several clauses, IF [NOT] EXISTS, backquotes). Anything else in an ALTER (indexes,
 * engine, MODIFY/CHANGE) leaves the columns as they are; a MODIFY/CHANGE is reported, not
 * applied (see the shared decision in cdc/schema-changes.ts).
 */
import type { MysqlColumn } from "./types.js";

export type ColumnChange = { readonly kind: "add"; readonly column: MysqlColumn } | { readonly kind: "drop"; readonly name: string } | { readonly kind: "other"; readonly clause: string };

export interface AlterTable {
  /** Database named in the statement; absent: the event's default database. */
  readonly database?: string;
  readonly table: string;
  readonly changes: readonly ColumnChange[];
}

const IDENT = "(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$]+))";
const ALTER = new RegExp(`^\\s*ALTER\\s+(?:ONLINE\\s+|IGNORE\\s+)*TABLE\\s+(?:IF\\s+EXISTS\\s+)?${IDENT}(?:\\s*\\.\\s*${IDENT})?\\s+([\\s\\S]*)$`, "i");
const ADD = new RegExp(`^ADD\\s+(?:COLUMN\\s+)?(?:IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\s+([\\s\\S]+)$`, "i");
const DROP = new RegExp(`^DROP\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${IDENT}\\s*(?:RESTRICT|CASCADE)?$`, "i");
/** ADD clauses that are not columns. */
const ADD_OTHER = /^ADD\s+(INDEX|KEY|UNIQUE|PRIMARY|FULLTEXT|SPATIAL|CONSTRAINT|FOREIGN|CHECK|PARTITION|PERIOD|SYSTEM)\b/i;
const DROP_OTHER = /^DROP\s+(INDEX|KEY|PRIMARY|FOREIGN|CONSTRAINT|CHECK|PARTITION|SYSTEM|PERIOD)\b/i;

function ident(quoted: string | undefined, bare: string | undefined): string {
  return quoted !== undefined ? quoted.replaceAll("``", "`") : (bare ?? "");
}

/** Splits at commas outside parentheses and quotes. */
export function splitClauses(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\") i += 1;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === "`") quote = ch;
    else if (ch === "(") depth += 1;
    else if (ch === ")") depth -= 1;
    else if (ch === "," && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((c) => c.length > 0);
}

/** The number in a type's parentheses at `index`, when there is one. */
function typeArg(args: readonly string[], index: number): number | undefined {
  const text = args[index];
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A column definition's type as information_schema would describe it (type, size, unsigned, nullability). */
function typeParts(definition: string): { dataType: string; parens: string; args: string[]; unsigned: boolean } {
  const m = /^([A-Za-z]+)\s*(\(([^)]*)\))?\s*((?:UNSIGNED|SIGNED|ZEROFILL|\s)*)/i.exec(definition.trim());
  if (m === null) return { dataType: "", parens: "", args: [], unsigned: false };
  return { dataType: (m[1] ?? "").toLowerCase(), parens: m[2] ?? "", args: (m[3] ?? "").split(",").map((a) => a.trim()), unsigned: /UNSIGNED/i.test(m[4] ?? "") };
}

export function columnFromDefinition(name: string, definition: string): MysqlColumn {
  const { dataType, parens, args, unsigned } = typeParts(definition);
  const columnType = `${dataType}${parens}${unsigned ? " unsigned" : ""}`;
  const nullable = !/\bNOT\s+NULL\b/i.test(definition) && !/\bPRIMARY\s+KEY\b/i.test(definition);
  const base = { name, dataType, columnType, nullable };
  if (dataType === "decimal" || dataType === "numeric") return { ...base, precision: typeArg(args, 0) ?? 10, scale: typeArg(args, 1) ?? 0 };
  if (dataType === "datetime" || dataType === "timestamp" || dataType === "time") return { ...base, fsp: typeArg(args, 0) ?? 0 };
  return base;
}

function clauseChange(clause: string): ColumnChange {
  if (ADD_OTHER.test(clause) || DROP_OTHER.test(clause)) return { kind: "other", clause };
  const add = ADD.exec(clause);
  if (add !== null) {
    const definition = add[3] ?? "";
    // ADD COLUMN (a INT, b INT) is a parenthesised list: one change per column.
    return { kind: "add", column: columnFromDefinition(ident(add[1], add[2]), definition) };
  }
  const drop = DROP.exec(clause);
  if (drop !== null) return { kind: "drop", name: ident(drop[1], drop[2]) };
  return { kind: "other", clause };
}

function expandParenthesisedAdd(clause: string): string[] {
  const m = /^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?\(([\s\S]*)\)\s*$/i.exec(clause);
  if (m === null) return [clause];
  return splitClauses(m[1] ?? "").map((def) => `ADD COLUMN ${def}`);
}

/** The column changes of an ALTER TABLE statement, or undefined for any other statement. */
export function parseAlterTable(sql: string): AlterTable | undefined {
  const stripped = sql.replace(/\/\*[\s\S]*?\*\//g, " ").trim();
  const m = ALTER.exec(stripped);
  if (m === null) return undefined;
  const first = ident(m[1], m[2]);
  const second = m[3] !== undefined || m[4] !== undefined ? ident(m[3], m[4]) : undefined;
  const changes = splitClauses(m[5] ?? "")
    .flatMap(expandParenthesisedAdd)
    .map(clauseChange);
  return second === undefined ? { table: first, changes } : { database: first, table: second, changes };
}
