/**
 * The grammar of the access statements the front answers itself (chDB cannot store access
 * entities, see access.ts): CREATE/ALTER/DROP USER and ROLE, GRANT, REVOKE, SET ROLE and
 * SET DEFAULT ROLE, parsed into plain commands. Pure: no state, no checks.
 */
import { createHash } from "node:crypto";
import { FrontError } from "./errors.js";
import { canonicalPrivilege, privilegeLevel } from "./privileges.js";
import type { RightsTarget } from "./rights.js";
import { identifier, tokenize, upper, type Token } from "./sql.js";

export type Auth = { type: "none" } | { type: "sha256"; hex: string; salt: string } | { type: "double_sha1"; hex: string } | { type: "plaintext"; password: string };

/** DEFAULT ROLE / SET ROLE: `ALL [EXCEPT ...]`, `NONE`, or a list. */
export interface RoleSet {
  readonly all: boolean;
  readonly names: readonly string[];
  readonly except: readonly string[];
}

export interface UserOptions {
  auth?: Auth;
  defaultRoles?: RoleSet;
  /** null: DEFAULT DATABASE NONE. */
  defaultDatabase?: string | null;
  settings?: Record<string, string>;
  renameTo?: string;
}

export interface PrivilegeElement {
  readonly privileges: readonly string[];
  readonly target: RightsTarget;
}

export type AccessCommand =
  | { readonly verb: "create"; readonly kind: "user" | "role"; readonly names: readonly string[]; readonly ifNotExists: boolean; readonly orReplace: boolean; readonly options: UserOptions }
  | { readonly verb: "alter"; readonly kind: "user" | "role"; readonly names: readonly string[]; readonly ifExists: boolean; readonly options: UserOptions }
  | { readonly verb: "drop"; readonly kind: "user" | "role"; readonly names: readonly string[]; readonly ifExists: boolean }
  | { readonly verb: "grant"; readonly elements: readonly PrivilegeElement[]; readonly grantees: readonly string[]; readonly grantOption: boolean; readonly replace: boolean }
  | { readonly verb: "grant-role"; readonly roles: readonly string[]; readonly grantees: readonly string[]; readonly adminOption: boolean }
  | { readonly verb: "revoke"; readonly elements: readonly PrivilegeElement[]; readonly grantees: readonly string[]; readonly grantOptionOnly: boolean }
  | { readonly verb: "revoke-role"; readonly roles: readonly string[]; readonly grantees: readonly string[]; readonly adminOptionOnly: boolean }
  | { readonly verb: "set-role"; readonly roles: RoleSet | "default" }
  | { readonly verb: "set-default-role"; readonly roles: RoleSet; readonly users: readonly string[] };

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");
export const sha1 = (b: Buffer | string): Buffer => createHash("sha1").update(b).digest();

/** A statement's tokens plus a cursor. */
class Cursor {
  i = 0;
  constructor(readonly tokens: readonly Token[]) {}
  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  word(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (upper(this.peek(k)) !== words[k]) return false;
    this.i += words.length;
    return true;
  }
  punct(text: string): boolean {
    if (this.peek()?.text !== text) return false;
    this.i++;
    return true;
  }
  name(): string {
    const value = identifier(this.peek());
    if (value === undefined) throw syntax(this.peek());
    this.i++;
    return value;
  }
  names(): string[] {
    const out = [this.name()];
    while (this.punct(",")) out.push(this.name());
    return out;
  }
  string(): string {
    const t = this.peek();
    if (t?.kind !== "string") throw syntax(t);
    this.i++;
    return identifier(t) as string;
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
}

export function syntax(t: Token | undefined): FrontError {
  return new FrontError(62, "SYNTAX_ERROR", t ? `Syntax error: failed at position ${t.start + 1} (${t.text})` : "Syntax error: failed at end of query");
}

const KNOWN_AUTH = new Set(["PLAINTEXT_PASSWORD", "SHA256_PASSWORD", "SHA256_HASH", "DOUBLE_SHA1_PASSWORD", "DOUBLE_SHA1_HASH", "NO_PASSWORD"]);

function parseIdentified(c: Cursor): Auth | undefined {
  if (c.word("NOT", "IDENTIFIED")) return { type: "none" };
  if (!c.word("IDENTIFIED")) return undefined;
  let method = "SHA256_PASSWORD";
  if (c.word("WITH")) {
    method = upper(c.peek());
    if (!KNOWN_AUTH.has(method)) throw new FrontError(48, "NOT_IMPLEMENTED", `authentication method ${c.peek()?.text ?? ""} is not supported by the test front`);
    c.i++;
    if (method === "NO_PASSWORD") return { type: "none" };
  }
  if (!c.word("BY")) throw syntax(c.peek());
  const secret = c.string();
  if (method === "PLAINTEXT_PASSWORD") return { type: "plaintext", password: secret };
  if (method === "DOUBLE_SHA1_PASSWORD") return { type: "double_sha1", hex: sha1(sha1(secret)).toString("hex") };
  if (method === "DOUBLE_SHA1_HASH") return { type: "double_sha1", hex: secret.toLowerCase() };
  if (method === "SHA256_HASH") {
    const salt = c.word("SALT") ? c.string() : "";
    return { type: "sha256", hex: secret.toLowerCase(), salt };
  }
  return { type: "sha256", hex: sha256(secret), salt: "" };
}

function skipOnCluster(c: Cursor): void {
  if (c.word("ON", "CLUSTER")) c.name();
}

function parseRoleSet(c: Cursor): RoleSet {
  if (c.word("NONE")) return { all: false, names: [], except: [] };
  if (c.word("ALL")) return { all: true, names: [], except: c.word("EXCEPT") ? c.names() : [] };
  return { all: false, names: c.names(), except: [] };
}

/** A setting's value in `SETTINGS a = 1`: the literal's text (strings unquoted). */
function settingValue(c: Cursor): string {
  const t = c.peek();
  if (t === undefined) throw syntax(t);
  c.i++;
  if (t.text === "-" && c.peek()?.kind === "number") {
    const n = c.peek() as Token;
    c.i++;
    return `-${n.text}`;
  }
  return t.kind === "string" ? (identifier(t) as string) : t.text;
}

const CONSTRAINT_WORDS = new Set(["MIN", "MAX"]);
const WRITABILITY = new Set(["CONST", "READONLY", "WRITABLE", "CHANGEABLE_IN_READONLY"]);

function parseSettings(c: Cursor, into: Record<string, string>): void {
  do {
    if (c.word("PROFILE")) {
      c.string();
      continue;
    }
    const name = c.name();
    if (c.punct("=")) into[name] = settingValue(c);
    while (CONSTRAINT_WORDS.has(upper(c.peek()))) {
      c.i++;
      settingValue(c);
    }
    if (WRITABILITY.has(upper(c.peek()))) c.i++;
  } while (c.punct(","));
}

/** The clauses after a user's or role's names, in any order. */
function parseOptions(c: Cursor, kind: "user" | "role"): UserOptions {
  const options: UserOptions = {};
  while (!c.done()) {
    const w = upper(c.peek());
    if (kind === "user" && (w === "NOT" || w === "IDENTIFIED")) options.auth = parseIdentified(c);
    else if (c.word("RENAME", "TO")) options.renameTo = c.name();
    else if (c.word("DEFAULT", "ROLE")) options.defaultRoles = parseRoleSet(c);
    else if (c.word("DEFAULT", "DATABASE")) options.defaultDatabase = c.word("NONE") ? null : c.name();
    else if (c.word("SETTINGS")) parseSettings(c, (options.settings ??= {}));
    else if (c.word("HOST") || c.word("GRANTEES") || c.word("VALID", "UNTIL") || c.word("IN")) skipClause(c);
    else throw syntax(c.peek());
  }
  return options;
}

const CLAUSE_STARTS = new Set(["IDENTIFIED", "NOT", "DEFAULT", "SETTINGS", "HOST", "GRANTEES", "VALID", "IN", "RENAME"]);

function skipClause(c: Cursor): void {
  c.i++;
  while (!c.done() && !CLAUSE_STARTS.has(upper(c.peek()))) c.i++;
}

function nameOrStar(c: Cursor): string {
  return c.punct("*") ? "*" : c.name();
}

/** `priv[(cols)][, priv[(cols)]...]` up to ON. */
function parsePrivilegeList(c: Cursor): { privileges: string[]; columns: string[] | undefined } {
  const privileges: string[] = [];
  let columns: string[] | undefined;
  do {
    const words: string[] = [];
    while (c.peek()?.kind === "word" && upper(c.peek()) !== "ON") {
      words.push((c.peek() as Token).text);
      c.i++;
    }
    if (words.length === 0) throw syntax(c.peek());
    privileges.push(canonicalPrivilege(words.join(" ")));
    if (c.punct("(")) {
      columns = c.names();
      if (!c.punct(")")) throw syntax(c.peek());
    }
  } while (c.punct(","));
  return { privileges, columns };
}

/** `db.table`, `db.*`, `*.*`, `table` (current database) or, for source privileges, `S3`. */
function parseTarget(c: Cursor, privileges: readonly string[], currentDatabase: string): RightsTarget {
  const first = nameOrStar(c);
  if (c.punct(".")) return { database: first, table: nameOrStar(c) };
  if (privileges.every((p) => privilegeLevel(p) === "source")) return { database: first, table: "*" };
  return { database: currentDatabase, table: first };
}

/** `priv[(cols)][, priv...] ON target[, priv ON target...]` up to TO/FROM. */
function parseElements(c: Cursor, currentDatabase: string, end: "TO" | "FROM"): PrivilegeElement[] {
  const elements: PrivilegeElement[] = [];
  for (;;) {
    const { privileges, columns } = parsePrivilegeList(c);
    if (!c.word("ON")) throw syntax(c.peek());
    const target = parseTarget(c, privileges, currentDatabase);
    elements.push(columns ? { privileges, target: { ...target, columns } } : { privileges, target });
    if (upper(c.peek()) === end) return elements;
    if (!c.punct(",")) throw syntax(c.peek());
  }
}

function grantees(c: Cursor, keyword: "TO" | "FROM"): string[] {
  if (!c.word(keyword)) throw syntax(c.peek());
  return c.names();
}

/** True when the GRANT/REVOKE names privileges (an `ON` comes before TO/FROM), not roles. */
function isPrivilegeForm(c: Cursor, end: "TO" | "FROM"): boolean {
  for (let k = c.i; k < c.tokens.length; k++) {
    const w = upper(c.tokens[k]);
    if (w === end) return false;
    if (w === "ON") return true;
  }
  return false;
}

function parseGrant(c: Cursor, currentDatabase: string): AccessCommand {
  skipOnCluster(c);
  if (isPrivilegeForm(c, "TO")) {
    const elements = parseElements(c, currentDatabase, "TO");
    const to = grantees(c, "TO");
    const grantOption = c.word("WITH", "GRANT", "OPTION");
    const replace = c.word("WITH", "REPLACE", "OPTION");
    if (!c.done()) throw syntax(c.peek());
    return { verb: "grant", elements, grantees: to, grantOption, replace };
  }
  const roles = c.names();
  const to = grantees(c, "TO");
  const adminOption = c.word("WITH", "ADMIN", "OPTION");
  c.word("WITH", "REPLACE", "OPTION");
  if (!c.done()) throw syntax(c.peek());
  return { verb: "grant-role", roles, grantees: to, adminOption };
}

function parseRevoke(c: Cursor, currentDatabase: string): AccessCommand {
  skipOnCluster(c);
  const grantOptionOnly = c.word("GRANT", "OPTION", "FOR");
  const adminOptionOnly = c.word("ADMIN", "OPTION", "FOR");
  if (isPrivilegeForm(c, "FROM")) {
    const elements = parseElements(c, currentDatabase, "FROM");
    return { verb: "revoke", elements, grantees: grantees(c, "FROM"), grantOptionOnly };
  }
  const roles = c.names();
  return { verb: "revoke-role", roles, grantees: grantees(c, "FROM"), adminOptionOnly };
}

/** Parse one access statement; `currentDatabase` resolves `ON t` and `ON *`. */
export function parseAccessStatement(sql: string, currentDatabase: string): AccessCommand {
  const c = new Cursor(tokenize(sql).filter((t) => t.text !== ";"));
  if (c.word("GRANT")) return parseGrant(c, currentDatabase);
  if (c.word("REVOKE")) return parseRevoke(c, currentDatabase);
  if (c.word("SET", "DEFAULT", "ROLE")) {
    const roles = parseRoleSet(c);
    return { verb: "set-default-role", roles, users: grantees(c, "TO") };
  }
  if (c.word("SET", "ROLE")) return { verb: "set-role", roles: c.word("DEFAULT") ? "default" : parseRoleSet(c) };
  const verb = upper(c.peek());
  c.i++;
  const orReplace = c.word("OR", "REPLACE");
  const kind = c.word("USER") ? "user" : c.word("ROLE") ? "role" : undefined;
  if (kind === undefined) throw syntax(c.peek());
  if (verb === "DROP") {
    const ifExists = c.word("IF", "EXISTS");
    const names = c.names();
    skipOnCluster(c);
    return { verb: "drop", kind, names, ifExists };
  }
  if (verb === "CREATE") {
    const ifNotExists = c.word("IF", "NOT", "EXISTS");
    const names = c.names();
    skipOnCluster(c);
    return { verb: "create", kind, names, ifNotExists, orReplace, options: parseOptions(c, kind) };
  }
  const ifExists = c.word("IF", "EXISTS");
  const names = c.names();
  skipOnCluster(c);
  return { verb: "alter", kind, names, ifExists, options: parseOptions(c, kind) };
}
