/**
 * What each statement requires, read from its tokens the way a server's interpreters declare
 * their required access (InterpreterCreateQuery, InterpreterAlterQuery, InterpreterDropQuery,
 * InterpreterRenameQuery, ...). The parts a server resolves only while analysing a query
 * (the tables a SELECT reads) are returned as SQL for query-tree.ts to resolve with the engine.
 *
 * Pure: tokens and the current database in, requirements out.
 */
import type { Requirement } from "./access-check.js";
import { syntax } from "./access-sql.js";
import { identifier, upper, type Token } from "./sql.js";

export interface StatementNeeds {
  readonly requirements: Requirement[];
  /** SELECT queries (text) whose tables and table functions must be resolved and checked. */
  readonly selects: string[];
  /** Statements a server answers from system tables it filters by visibility. */
  readonly filtered: ("tables" | "columns" | "databases")[];
  /** USE db: needs SHOW DATABASES on it (any grant on the database or one of its tables). */
  readonly useDatabase?: string;
  /** SET: refused with readonly=1 (a server forbids changing settings then). */
  readonly changesSettings: boolean;
}

interface Name {
  readonly database: string;
  readonly table: string;
}

class Reader {
  i = 0;
  constructor(
    readonly tokens: readonly Token[],
    readonly currentDatabase: string,
  ) {}
  peek(o = 0): Token | undefined {
    return this.tokens[this.i + o];
  }
  word(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (upper(this.peek(k)) !== words[k]) return false;
    this.i += words.length;
    return true;
  }
  /** `[db.]name` */
  qualified(): Name {
    const first = identifier(this.peek());
    if (first === undefined) throw syntax(this.peek());
    this.i++;
    if (this.peek()?.text !== ".") return { database: this.currentDatabase, table: first };
    this.i++;
    const second = identifier(this.peek());
    if (second === undefined) throw syntax(this.peek());
    this.i++;
    return { database: first, table: second };
  }
  /** Text from the first depth-0 SELECT/WITH at or after the cursor, if any. */
  selectFrom(sql: string): string | undefined {
    const t = this.tokens.slice(this.i).find((x) => x.depth === 0 && (upper(x) === "SELECT" || upper(x) === "WITH"));
    return t === undefined ? undefined : sql.slice(t.start);
  }
}

const empty = (): StatementNeeds => ({ requirements: [], selects: [], filtered: [], changesSettings: false });

function req(privilege: string, n: Name | { database: string; table?: string } | undefined, columns?: readonly string[]): Requirement {
  if (n === undefined) return { privilege };
  return { privilege, database: n.database, ...(n.table !== undefined ? { table: n.table } : {}), ...(columns && columns.length > 0 ? { columns } : {}) };
}

/** Engines that read or write outside the server need the matching source grant. */
const SOURCE_ENGINES: Record<string, string> = {
  Kafka: "KAFKA",
  S3: "S3",
  S3Queue: "S3",
  URL: "URL",
  File: "FILE",
  MySQL: "MYSQL",
  PostgreSQL: "POSTGRES",
  Distributed: "REMOTE",
  AzureBlobStorage: "AZURE",
  AzureQueue: "AZURE",
};

function insert(r: Reader, sql: string): StatementNeeds {
  const needs = empty();
  r.word("INTO");
  r.word("TABLE");
  if (r.word("FUNCTION")) {
    needs.selects.push(`SELECT * FROM ${sql.slice(r.peek()?.start ?? sql.length, tableFunctionEnd(r))}`);
    needs.requirements.push(req("CREATE TEMPORARY TABLE", undefined));
    return needs;
  }
  const target = r.qualified();
  const columns: string[] = [];
  if (r.peek()?.text === "(") {
    for (r.i++; r.peek() && r.peek()?.text !== ")"; r.i++) {
      const name = identifier(r.peek());
      if (name !== undefined && r.peek()?.depth === 1) columns.push(name);
    }
  }
  needs.requirements.push(req("INSERT", target, columns));
  const select = r.selectFrom(sql);
  if (select !== undefined) needs.selects.push(select);
  return needs;
}

function tableFunctionEnd(r: Reader): number {
  const open = r.tokens.findIndex((t, k) => k >= r.i && t.text === "(");
  const close = r.tokens.findIndex((t, k) => k > open && t.text === ")" && t.depth === r.tokens[open]?.depth);
  return (r.tokens[close] ?? r.tokens[r.tokens.length - 1])?.end ?? 0;
}

type CreateKind = "view" | "dictionary" | "table";

function createKind(r: Reader): CreateKind {
  const materialized = r.word("MATERIALIZED");
  if (materialized || r.word("LIVE") || r.word("WINDOW")) r.word("VIEW");
  if (materialized || r.word("VIEW")) return "view";
  if (r.word("DICTIONARY")) return "dictionary";
  r.word("TABLE");
  return "table";
}

function createTargetNeeds(kind: CreateKind, name: Name, orReplace: boolean, temporary: boolean): Requirement[] {
  if (kind === "dictionary") return [req("CREATE DICTIONARY", name)];
  if (kind === "view") return orReplace ? [req("DROP VIEW", name), req("CREATE VIEW", name)] : [req("CREATE VIEW", name)];
  if (temporary) return [req("CREATE TEMPORARY TABLE", undefined)];
  return orReplace ? [req("DROP TABLE", name), req("CREATE TABLE", name)] : [req("CREATE TABLE", name)];
}

/** `TO db.t` of a materialized view: SELECT and INSERT on it; `ENGINE = Kafka` etc.: the source's grant. */
function createExtraNeeds(r: Reader, kind: CreateKind): Requirement[] {
  const out: Requirement[] = [];
  const at = (word: string): number => r.tokens.findIndex((t, k) => k >= r.i && t.depth === 0 && upper(t) === word);
  const to = at("TO");
  if (to !== -1 && kind === "view") {
    const sub = new Reader(r.tokens, r.currentDatabase);
    sub.i = to + 1;
    const target = sub.qualified();
    out.push(req("SELECT", target), req("INSERT", target));
  }
  const engine = at("ENGINE");
  const engineName = engine === -1 ? undefined : identifier(r.tokens[r.tokens[engine + 1]?.text === "=" ? engine + 2 : engine + 1]);
  const source = engineName === undefined ? undefined : SOURCE_ENGINES[engineName];
  if (source !== undefined) out.push(req(source, undefined));
  return out;
}

function create(r: Reader, sql: string): StatementNeeds {
  const needs = empty();
  const orReplace = r.word("OR", "REPLACE");
  const temporary = r.word("TEMPORARY");
  if (r.word("DATABASE")) {
    r.word("IF", "NOT", "EXISTS");
    needs.requirements.push(req("CREATE DATABASE", { database: identifier(r.peek()) ?? "" }));
    return needs;
  }
  const kind = createKind(r);
  r.word("IF", "NOT", "EXISTS");
  const name = r.qualified();
  needs.requirements.push(...createTargetNeeds(kind, name, orReplace, temporary), ...createExtraNeeds(r, kind));
  const select = r.selectFrom(sql);
  if (select !== undefined) {
    needs.selects.push(select);
    // CREATE TABLE ... AS SELECT fills the new table through an INSERT run as the user.
    if (kind === "table" && !temporary) needs.requirements.push(req("INSERT", name));
  }
  return needs;
}

/** ALTER TABLE commands: [leading words, privilege, column-level]. Longest match first. */
const ALTER_COMMANDS: readonly (readonly [readonly string[], string, boolean])[] = [
  [["ADD", "COLUMN"], "ALTER ADD COLUMN", true],
  [["DROP", "COLUMN"], "ALTER DROP COLUMN", true],
  [["MODIFY", "COLUMN"], "ALTER MODIFY COLUMN", true],
  [["ALTER", "COLUMN"], "ALTER MODIFY COLUMN", true],
  [["COMMENT", "COLUMN"], "ALTER COMMENT COLUMN", true],
  [["CLEAR", "COLUMN"], "ALTER CLEAR COLUMN", true],
  [["RENAME", "COLUMN"], "ALTER RENAME COLUMN", true],
  [["MATERIALIZE", "COLUMN"], "ALTER MATERIALIZE COLUMN", true],
  [["MODIFY", "COMMENT"], "ALTER MODIFY COMMENT", false],
  [["MODIFY", "ORDER", "BY"], "ALTER ORDER BY", false],
  [["MODIFY", "SAMPLE", "BY"], "ALTER SAMPLE BY", false],
  [["ADD", "INDEX"], "ALTER ADD INDEX", false],
  [["DROP", "INDEX"], "ALTER DROP INDEX", false],
  [["MATERIALIZE", "INDEX"], "ALTER MATERIALIZE INDEX", false],
  [["CLEAR", "INDEX"], "ALTER CLEAR INDEX", false],
  [["ADD", "PROJECTION"], "ALTER ADD PROJECTION", false],
  [["DROP", "PROJECTION"], "ALTER DROP PROJECTION", false],
  [["ADD", "CONSTRAINT"], "ALTER ADD CONSTRAINT", false],
  [["DROP", "CONSTRAINT"], "ALTER DROP CONSTRAINT", false],
  [["MODIFY", "TTL"], "ALTER TTL", false],
  [["REMOVE", "TTL"], "ALTER TTL", false],
  [["MATERIALIZE", "TTL"], "ALTER MATERIALIZE TTL", false],
  [["MODIFY", "SETTING"], "ALTER SETTINGS", false],
  [["RESET", "SETTING"], "ALTER SETTINGS", false],
  [["MODIFY", "QUERY"], "ALTER VIEW MODIFY QUERY", false],
  [["DELETE"], "ALTER DELETE", false],
  [["UPDATE"], "ALTER UPDATE", false],
  [["DROP", "PARTITION"], "ALTER DELETE", false],
  [["DROP", "PART"], "ALTER DELETE", false],
  [["DETACH", "PARTITION"], "ALTER DELETE", false],
  [["ATTACH", "PARTITION"], "INSERT", false],
  [["FREEZE"], "ALTER FREEZE PARTITION", false],
  [["UNFREEZE"], "ALTER FREEZE PARTITION", false],
  [["MOVE", "PARTITION"], "ALTER MOVE PARTITION", false],
];

function alter(r: Reader): StatementNeeds {
  const needs = empty();
  if (r.word("DATABASE")) {
    needs.requirements.push(req("ALTER DATABASE", { database: identifier(r.peek()) ?? "" }));
    return needs;
  }
  r.word("TABLE");
  const name = r.qualified();
  if (r.word("ON", "CLUSTER")) r.i++;
  // Each depth-0 comma starts another command.
  let start = r.i;
  for (let k = r.i; k <= r.tokens.length; k++) {
    const t = r.tokens[k];
    if (t !== undefined && !(t.text === "," && t.depth === 0)) continue;
    const words = r.tokens.slice(start, k).map((x) => upper(x));
    const found = ALTER_COMMANDS.find(([lead]) => lead.every((w, n) => words[n] === w));
    if (!found) needs.requirements.push(req("ALTER TABLE", name));
    else {
      const [lead, privilege, columnLevel] = found;
      let n = start + lead.length;
      if (upper(r.tokens[n]) === "IF") n += upper(r.tokens[n + 1]) === "NOT" ? 3 : 2;
      const column = columnLevel ? identifier(r.tokens[n]) : undefined;
      needs.requirements.push(req(privilege, name, column !== undefined ? [column] : undefined));
    }
    start = k + 1;
  }
  return needs;
}

function drop(r: Reader, verb: string): StatementNeeds {
  const needs = empty();
  if (r.word("DATABASE")) {
    r.word("IF", "EXISTS");
    needs.requirements.push(req("DROP DATABASE", { database: identifier(r.peek()) ?? "" }));
    return needs;
  }
  if (r.word("TEMPORARY")) return needs;
  const privilege = r.word("VIEW") ? "DROP VIEW" : r.word("DICTIONARY") ? "DROP DICTIONARY" : (r.word("TABLE"), "DROP TABLE");
  r.word("IF", "EXISTS");
  do needs.requirements.push(req(verb === "TRUNCATE" ? "TRUNCATE" : privilege, r.qualified()));
  while (r.peek()?.text === "," && r.i++);
  return needs;
}

function rename(r: Reader, exchange: boolean): StatementNeeds {
  const needs = empty();
  if (!exchange && r.word("DATABASE")) {
    const from = identifier(r.peek()) ?? "";
    r.i += 2;
    const to = identifier(r.peek()) ?? "";
    needs.requirements.push(req("SELECT", { database: from }), req("DROP DATABASE", { database: from }), req("CREATE DATABASE", { database: to }), req("INSERT", { database: to }));
    return needs;
  }
  if (!r.word("TABLES") && !r.word("TABLE")) r.word("DICTIONARY");
  do {
    const from = r.qualified();
    if (!r.word(exchange ? "AND" : "TO")) throw syntax(r.peek());
    const to = r.qualified();
    needs.requirements.push(req("SELECT", from), req("DROP TABLE", from), req("CREATE TABLE", to), req("INSERT", to));
    if (exchange) needs.requirements.push(req("CREATE TABLE", from), req("INSERT", from), req("SELECT", to), req("DROP TABLE", to));
  } while (r.peek()?.text === "," && r.i++);
  return needs;
}

function system(r: Reader): StatementNeeds {
  const needs = empty();
  const words = r.tokens.slice(1).map((t) => upper(t));
  /** The optional table after the command's words (`SYSTEM STOP MERGES db.t`). */
  const tableAfter = (n: number): Name | undefined => {
    if (r.tokens[n + 1] === undefined) return undefined;
    const sub = new Reader(r.tokens, r.currentDatabase);
    sub.i = n + 1;
    return sub.qualified();
  };
  if (words[0] === "FLUSH" && words[1] === "LOGS") needs.requirements.push(req("SYSTEM FLUSH LOGS", undefined));
  else if ((words[0] === "STOP" || words[0] === "START") && words[1] === "MERGES") needs.requirements.push(req("SYSTEM MERGES", tableAfter(2)));
  else if (words[0] === "SYNC" && words[1] === "REPLICA") needs.requirements.push(req("SYSTEM SYNC REPLICA", tableAfter(2)));
  else needs.requirements.push(req("SYSTEM", undefined));
  return needs;
}

function show(r: Reader): StatementNeeds {
  const needs = empty();
  if (r.word("CREATE")) {
    if (r.word("DATABASE")) needs.requirements.push(req("SHOW DATABASES", { database: identifier(r.peek()) ?? "" }));
    else {
      r.word("TEMPORARY");
      if (!r.word("TABLE")) if (!r.word("VIEW")) r.word("DICTIONARY");
      needs.requirements.push(req("SHOW COLUMNS", r.qualified()));
    }
    return needs;
  }
  r.word("FULL");
  r.word("EXTENDED");
  if (r.word("DATABASES")) needs.filtered.push("databases");
  else if (r.word("TABLES") || r.word("DICTIONARIES")) needs.filtered.push("tables");
  else if (r.word("COLUMNS") || r.word("FIELDS")) needs.filtered.push("columns");
  // Other SHOW forms (SETTINGS, PROCESSLIST, GRANTS, ...) read system tables any user may read.
  return needs;
}

type Handler = (r: Reader, sql: string, verb: string) => StatementNeeds;

const one =
  (privilege: string, ...skip: string[]): Handler =>
  (r) => {
    for (const w of skip) r.word(w);
    return { ...empty(), requirements: [req(privilege, r.qualified())] };
  };

const HANDLERS: Record<string, Handler> = {
  SELECT: (_r, sql) => ({ ...empty(), selects: [sql] }),
  WITH: (_r, sql) => ({ ...empty(), selects: [sql] }),
  "(": (_r, sql) => ({ ...empty(), selects: [sql] }),
  EXPLAIN: (r, sql) => {
    const select = r.selectFrom(sql);
    return { ...empty(), selects: select === undefined ? [] : [select] };
  },
  INSERT: (r, sql) => insert(r, sql),
  CREATE: (r, sql) => create(r, sql),
  ATTACH: (r, sql) => create(r, sql),
  ALTER: (r) => alter(r),
  DROP: (r, _sql, verb) => drop(r, verb),
  DETACH: (r, _sql, verb) => drop(r, verb),
  TRUNCATE: (r, _sql, verb) => drop(r, verb),
  RENAME: (r) => rename(r, false),
  EXCHANGE: (r) => rename(r, true),
  OPTIMIZE: one("OPTIMIZE", "TABLE"),
  CHECK: one("CHECK", "TABLE"),
  DELETE: one("ALTER DELETE", "FROM"),
  UPDATE: one("ALTER UPDATE"),
  UNDROP: one("UNDROP TABLE", "TABLE"),
  DESCRIBE: one("SHOW COLUMNS", "TABLE"),
  DESC: one("SHOW COLUMNS", "TABLE"),
  SYSTEM: (r) => system(r),
  KILL: () => ({ ...empty(), requirements: [req("KILL QUERY", undefined)] }),
  SHOW: (r) => show(r),
  EXISTS: () => empty(),
  USE: (r) => ({ ...empty(), useDatabase: identifier(r.peek()) ?? "" }),
  SET: () => ({ ...empty(), changesSettings: true }),
};

/** Requirements of a non-access statement. `sql` is the statement's text (tokens index into it). */
export function statementNeeds(tokens: readonly Token[], sql: string, currentDatabase: string): StatementNeeds {
  const r = new Reader(tokens, currentDatabase);
  const verb = upper(r.peek()) || (r.peek()?.text ?? "");
  r.i++;
  const handler = HANDLERS[verb];
  // A statement the front does not model: only a holder of everything may run it.
  return handler ? handler(r, sql, verb) : { ...empty(), requirements: [req("ALL", undefined)] };
}
