/**
 * Users, roles and grants for the front.
 *
 * chDB 26.7 cannot store SQL-created access entities: clickhouse-local only sets up the
 * read-only `users_xml` storage (local_directory / memory / access_control_path in a config
 * are ignored), so `CREATE USER` fails with ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND, and every
 * query runs as the engine's `default` user (no --user per connection, no EXECUTE AS).
 *
 * Mirroring them into the engine's users.xml does not help either: `SYSTEM RELOAD USERS` does
 * not re-read that file in chDB, so users appear in `system.users` only after a restart.
 *
 * So the front keeps the entities itself: it parses CREATE/ALTER/DROP USER and ROLE, GRANT and
 * REVOKE and stores them (persisted as JSON). It authenticates every request against these
 * users and enforces what tests rely on: the password, INSERT privileges on the target table,
 * and access-management rights. Other privileges (SELECT, DDL) are recorded but not enforced,
 * and `system.users` / `SHOW GRANTS` do not list the front's users.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { FrontError } from "./errors.js";
import { identifier, tokenize, upper, type Token } from "./sql.js";

export type Auth = { type: "none" } | { type: "sha256"; hex: string; salt: string } | { type: "double_sha1"; hex: string } | { type: "plaintext"; password: string };

export interface PrivilegeGrant {
  readonly kind: "privilege";
  /** Upper-case privilege names (column lists dropped). */
  readonly privileges: readonly string[];
  readonly database: string;
  readonly table: string;
  /** `GRANT ... ON target` without the grantee, as users.xml takes it. */
  readonly text: string;
}

export interface RoleGrant {
  readonly kind: "role";
  readonly role: string;
  readonly text: string;
}

export type Grant = PrivilegeGrant | RoleGrant;

export interface Principal {
  readonly kind: "user" | "role";
  readonly name: string;
  auth: Auth;
  grants: Grant[];
}

export interface AccessSnapshot {
  principals: Principal[];
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");
const sha1 = (b: Buffer | string): Buffer => createHash("sha1").update(b).digest();

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function checkPassword(auth: Auth, password: string): boolean {
  switch (auth.type) {
    case "none":
      return true;
    case "plaintext":
      return safeEqual(auth.password, password);
    case "sha256":
      return safeEqual(auth.hex, sha256(password + auth.salt));
    case "double_sha1":
      return safeEqual(auth.hex, sha1(sha1(password)).toString("hex"));
  }
}

/** A statement's tokens plus a cursor, for the small access-statement grammar. */
class Cursor {
  i = 0;
  constructor(
    readonly tokens: readonly Token[],
    readonly sql: string,
  ) {}
  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  word(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (upper(this.peek(k)) !== words[k]) return false;
    this.i += words.length;
    return true;
  }
  name(): string {
    const value = identifier(this.peek());
    if (value === undefined) throw syntax(this.peek());
    this.i++;
    return value;
  }
  /** Comma-separated names (stops at a keyword that is not a name). */
  names(): string[] {
    const out = [this.name()];
    while (this.peek()?.text === ",") {
      this.i++;
      out.push(this.name());
    }
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

function syntax(t: Token | undefined): FrontError {
  return new FrontError(62, "SYNTAX_ERROR", t ? `Syntax error: failed at position ${t.start + 1} (${t.text})` : "Syntax error: unexpected end of query");
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

/** Upper-case privilege names before `ON` (column lists dropped). */
function parsePrivilegeNames(c: Cursor): string[] {
  const privileges: string[] = [];
  let current: string[] = [];
  while (!c.done() && upper(c.peek()) !== "ON") {
    const t = c.peek() as Token;
    if (t.text === ",") {
      privileges.push(current.join(" "));
      current = [];
    } else if (t.text === "(") {
      while (!c.done() && c.peek()?.text !== ")") c.i++;
    } else if (t.kind === "word") current.push(t.text.toUpperCase());
    c.i++;
  }
  if (current.length > 0) privileges.push(current.join(" "));
  return privileges;
}

function nameOrStar(c: Cursor): string {
  if (c.peek()?.text !== "*") return c.name();
  c.i++;
  return "*";
}

/** Privilege list and target of `GRANT privs ON db.table` (database "" means the current one). */
function parsePrivileges(c: Cursor): { privileges: string[]; database: string; table: string } {
  const privileges = parsePrivilegeNames(c);
  if (!c.word("ON")) throw syntax(c.peek());
  const first = nameOrStar(c);
  if (c.peek()?.text !== ".") return { privileges, database: "", table: first };
  c.i++;
  return { privileges, database: first, table: nameOrStar(c) };
}

const ADMIN_PRIVILEGES = new Set(["ALL", "ALL PRIVILEGES", "ACCESS MANAGEMENT"]);

export interface AccessChange {
  /** A short description for logs. */
  readonly summary: string;
}

/**
 * The front's access-control state. Mutations are applied through `apply(statement)`; the
 * caller persists `snapshot()` and refreshes the engine's users.xml afterwards.
 */
export class AccessControl {
  private readonly principals = new Map<string, Principal>();

  constructor(
    private readonly adminUser: string,
    private readonly adminPassword: string,
    snapshot?: AccessSnapshot,
  ) {
    for (const p of snapshot?.principals ?? []) this.principals.set(key(p.kind, p.name), p);
  }

  snapshot(): AccessSnapshot {
    return { principals: [...this.principals.values()].map((p) => ({ ...p, grants: [...p.grants] })) };
  }

  users(): Principal[] {
    return [...this.principals.values()].filter((p) => p.kind === "user");
  }

  roles(): Principal[] {
    return [...this.principals.values()].filter((p) => p.kind === "role");
  }

  /** Authenticate like a server: unknown user and wrong password give the same error. */
  authenticate(user: string, password: string): void {
    const ok = user === this.adminUser ? safeEqual(password, this.adminPassword) : this.checkUser(user, password);
    if (!ok) {
      throw new FrontError(516, "AUTHENTICATION_FAILED", `${user}: Authentication failed: password is incorrect, or there is no user with such name`);
    }
  }

  private checkUser(user: string, password: string): boolean {
    const p = this.principals.get(key("user", user));
    return p !== undefined && checkPassword(p.auth, password);
  }

  isAdmin(user: string): boolean {
    return user === this.adminUser || this.hasPrivilege(user, ADMIN_PRIVILEGES, "*", "*");
  }

  /** INSERT check for a non-admin user. */
  authorizeInsert(user: string, database: string, table: string): void {
    if (this.isAdmin(user) || this.hasPrivilege(user, new Set(["INSERT"]), database, table)) return;
    throw new FrontError(497, "ACCESS_DENIED", `${user}: Not enough privileges. To execute this query, it's necessary to have the grant INSERT ON ${database}.${table}`);
  }

  private hasPrivilege(user: string, wanted: ReadonlySet<string>, database: string, table: string): boolean {
    const seen = new Set<string>();
    const visit = (p: Principal | undefined): boolean => {
      if (!p || seen.has(key(p.kind, p.name))) return false;
      seen.add(key(p.kind, p.name));
      return p.grants.some((g) => (g.kind === "role" ? visit(this.principals.get(key("role", g.role))) : grantCovers(g, wanted, database, table)));
    };
    return visit(this.principals.get(key("user", user)));
  }

  /** Apply an access statement (already classified as such) on behalf of `user`. */
  apply(sql: string, user: string): AccessChange {
    if (!this.isAdmin(user)) {
      throw new FrontError(497, "ACCESS_DENIED", `${user}: Not enough privileges. To execute this query, it's necessary to have the grant ACCESS MANAGEMENT ON *.*`);
    }
    const c = new Cursor(tokenize(sql).filter((t) => t.text !== ";"), sql);
    if (c.word("GRANT")) return this.grant(c);
    if (c.word("REVOKE")) return this.revoke(c);
    const verb = upper(c.peek());
    c.i++;
    const orReplace = c.word("OR", "REPLACE");
    const kind = c.word("USER") ? "user" : c.word("ROLE") ? "role" : undefined;
    if (kind === undefined) throw syntax(c.peek());
    if (verb === "CREATE") return this.create(c, kind, orReplace);
    if (verb === "ALTER") return this.alter(c, kind);
    return this.drop(c, kind);
  }

  private create(c: Cursor, kind: "user" | "role", orReplace: boolean): AccessChange {
    const ifNotExists = c.word("IF", "NOT", "EXISTS");
    const names = c.names();
    skipOnCluster(c);
    const auth = kind === "user" ? (parseIdentified(c) ?? { type: "none" }) : { type: "none" as const };
    for (const name of names) {
      const exists = this.principals.has(key(kind, name)) || (kind === "user" && name === this.adminUser);
      if (exists && ifNotExists) continue;
      if (exists && !orReplace) {
        throw new FrontError(493, "ACCESS_ENTITY_ALREADY_EXISTS", `${kind} \`${name}\`: cannot insert because ${kind} \`${name}\` already exists in local_directory`);
      }
      this.principals.set(key(kind, name), { kind, name, auth, grants: [] });
    }
    return { summary: `create ${kind} ${names.join(", ")}` };
  }

  private alter(c: Cursor, kind: "user" | "role"): AccessChange {
    const ifExists = c.word("IF", "EXISTS");
    const names = c.names();
    skipOnCluster(c);
    const auth = kind === "user" ? parseIdentified(c) : undefined;
    for (const name of names) {
      const p = this.principals.get(key(kind, name));
      if (!p) {
        if (ifExists) continue;
        throw unknown(kind, name);
      }
      if (auth) p.auth = auth;
    }
    return { summary: `alter ${kind} ${names.join(", ")}` };
  }

  private drop(c: Cursor, kind: "user" | "role"): AccessChange {
    const ifExists = c.word("IF", "EXISTS");
    const names = c.names();
    for (const name of names) {
      if (!this.principals.has(key(kind, name)) && !ifExists) throw unknown(kind, name);
    }
    for (const name of names) {
      this.principals.delete(key(kind, name));
      if (kind === "role") for (const p of this.principals.values()) p.grants = p.grants.filter((g) => !(g.kind === "role" && g.role === name));
    }
    return { summary: `drop ${kind} ${names.join(", ")}` };
  }

  private grantees(c: Cursor, keyword: "TO" | "FROM"): Principal[] {
    if (!c.word(keyword)) throw syntax(c.peek());
    return c.names().map((name) => {
      const p = this.principals.get(key("user", name)) ?? this.principals.get(key("role", name));
      if (!p) throw unknown("role", name);
      return p;
    });
  }

  private grant(c: Cursor): AccessChange {
    skipOnCluster(c);
    const toIndex = c.tokens.findIndex((t, i) => i >= c.i && upper(t) === "TO");
    const onIndex = c.tokens.findIndex((t, i) => i >= c.i && upper(t) === "ON" && upper(c.tokens[i + 1]) !== "CLUSTER");
    const isPrivilege = onIndex !== -1 && (toIndex === -1 || onIndex < toIndex);
    const grants = isPrivilege ? [this.privilegeGrant(c)] : this.roleGrants(c);
    for (const p of this.grantees(c, "TO")) {
      for (const g of grants) if (!p.grants.some((x) => x.text === g.text)) p.grants.push(g);
    }
    return { summary: `grant ${grants.map((g) => g.text).join("; ")}` };
  }

  private privilegeGrant(c: Cursor): PrivilegeGrant {
    const start = c.peek()?.start ?? 0;
    const { privileges, database, table } = parsePrivileges(c);
    const end = (c.tokens[c.i - 1] as Token).end;
    return { kind: "privilege", privileges, database, table, text: `GRANT ${c.sql.slice(start, end)}` };
  }

  private roleGrants(c: Cursor): RoleGrant[] {
    return c.names().map((role) => {
      if (!this.principals.has(key("role", role))) throw unknown("role", role);
      return { kind: "role", role, text: `GRANT ${role}` };
    });
  }

  private revoke(c: Cursor): AccessChange {
    skipOnCluster(c);
    const fromIndex = c.tokens.findIndex((t, i) => i >= c.i && upper(t) === "FROM");
    const onIndex = c.tokens.findIndex((t, i) => i >= c.i && upper(t) === "ON");
    if (onIndex !== -1 && (fromIndex === -1 || onIndex < fromIndex)) {
      const { privileges, database, table } = parsePrivileges(c);
      const all = privileges.some((p) => ADMIN_PRIVILEGES.has(p) && p !== "ACCESS MANAGEMENT");
      for (const p of this.grantees(c, "FROM")) {
        p.grants = p.grants.filter((g) => g.kind !== "privilege" || g.database !== database || g.table !== table || !(all || g.privileges.every((x) => privileges.includes(x))));
      }
      return { summary: `revoke ${privileges.join(", ")}` };
    }
    const roles = c.names();
    for (const p of this.grantees(c, "FROM")) p.grants = p.grants.filter((g) => g.kind !== "role" || !roles.includes(g.role));
    return { summary: `revoke ${roles.join(", ")}` };
  }
}

function grantCovers(g: PrivilegeGrant, wanted: ReadonlySet<string>, database: string, table: string): boolean {
  const privilegeOk = g.privileges.some((p) => wanted.has(p) || p === "ALL" || p === "ALL PRIVILEGES");
  const dbOk = g.database === "*" || g.database === database || (g.database === "" && database === "default");
  const tableOk = g.table === "*" || g.table === table;
  return privilegeOk && dbOk && tableOk;
}

function key(kind: string, name: string): string {
  return `${kind}:${name}`;
}

function unknown(kind: "user" | "role", name: string): FrontError {
  return kind === "user"
    ? new FrontError(192, "UNKNOWN_USER", `There is no user \`${name}\` in user directories`)
    : new FrontError(511, "UNKNOWN_ROLE", `There is no role \`${name}\` in user directories`);
}
