/**
 * Users, roles and grants for the front.
 *
 * chDB 26.7 cannot store SQL-created access entities: clickhouse-local only sets up the
 * read-only `users_xml` storage, so `CREATE USER` fails with ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND
 * and every query runs as the engine's `default` user. So the front keeps the entities itself
 * (persisted as JSON), authenticates every request against them and enforces privileges the
 * way a server does (see authorize.ts for what each statement requires). `system.users` and
 * `SHOW GRANTS` do not list the front's users.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { parseAccessStatement, sha1, type AccessCommand, type Auth, type PrivilegeElement, type RoleSet } from "./access-sql.js";
import { accessDenied, EffectiveRights, readonlyRefusal, type ReadonlyContext } from "./access-check.js";
import { FrontError } from "./errors.js";
import { canonicalPrivilege } from "./privileges.js";
import type { RightsOp } from "./rights.js";

export type { Auth } from "./access-sql.js";

export interface RoleGrant {
  readonly role: string;
  readonly adminOption: boolean;
}

export interface Principal {
  readonly kind: "user" | "role";
  name: string;
  auth: Auth;
  rights: RightsOp[];
  roles: RoleGrant[];
  defaultRoles: RoleSet;
  defaultDatabase?: string;
  settings: Record<string, string>;
}

export interface AccessSnapshot {
  principals: Principal[];
}

const ALL_ROLES: RoleSet = { all: true, names: [], except: [] };

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
      return safeEqual(auth.hex, createHash("sha256").update(password + auth.salt).digest("hex"));
    case "double_sha1":
      return safeEqual(auth.hex, sha1(sha1(password)).toString("hex"));
  }
}

/** Snapshots written before rights were ordered operations kept `grants` with upper-case names. */
interface LegacyPrincipal {
  kind: "user" | "role";
  name: string;
  auth: Auth;
  grants?: ({ kind: "privilege"; privileges: string[]; database: string; table: string } | { kind: "role"; role: string })[];
}

function upgrade(p: Principal | LegacyPrincipal): Principal {
  if ("rights" in p) return p;
  const rights: RightsOp[] = [];
  const roles: RoleGrant[] = [];
  for (const g of p.grants ?? []) {
    if (g.kind === "role") roles.push({ role: g.role, adminOption: false });
    else rights.push({ kind: "grant", privileges: g.privileges.map(canonicalPrivilege), target: { database: g.database || "default", table: g.table }, grantOption: false });
  }
  return { kind: p.kind, name: p.name, auth: p.auth, rights, roles, defaultRoles: ALL_ROLES, settings: {} };
}

export interface AccessChange {
  /** A short description for logs. */
  readonly summary: string;
  /** SET ROLE: the roles the session now uses. */
  readonly currentRoles?: RoleSet | "default";
}

/** Who runs an access statement, and in what context. */
export interface Actor {
  readonly user: string;
  readonly database: string;
  readonly currentRoles: RoleSet | "default";
  readonly readonly: ReadonlyContext;
}

export class AccessControl {
  private readonly principals = new Map<string, Principal>();

  constructor(
    private readonly adminUser: string,
    private readonly adminPassword: string,
    snapshot?: { principals: (Principal | LegacyPrincipal)[] },
  ) {
    for (const p of snapshot?.principals ?? []) this.principals.set(key(p.kind, p.name), upgrade(p));
  }

  snapshot(): AccessSnapshot {
    return { principals: [...this.principals.values()].map((p) => structuredClone(p)) };
  }

  users(): Principal[] {
    return [...this.principals.values()].filter((p) => p.kind === "user");
  }

  /** Authenticate like a server: unknown user and wrong password give the same error. */
  authenticate(user: string, password: string): void {
    const p = this.principals.get(key("user", user));
    const ok = user === this.adminUser ? safeEqual(password, this.adminPassword) : p !== undefined && checkPassword(p.auth, password);
    if (!ok) throw new FrontError(516, "AUTHENTICATION_FAILED", `${user}: Authentication failed: password is incorrect, or there is no user with such name`);
  }

  isAdmin(user: string): boolean {
    return user === this.adminUser;
  }

  /** The user's DEFAULT DATABASE, used when a request names none. */
  defaultDatabase(user: string): string | undefined {
    return this.principals.get(key("user", user))?.defaultDatabase;
  }

  /** Settings given to the user and its enabled roles (CREATE USER ... SETTINGS). */
  userSettings(user: string, current: RoleSet | "default" = "default"): Map<string, string> {
    const out = new Map<string, string>();
    for (const role of this.enabledRoles(user, current)) for (const [k, v] of Object.entries(role.settings)) out.set(k, v);
    const p = this.principals.get(key("user", user));
    for (const [k, v] of Object.entries(p?.settings ?? {})) out.set(k, v);
    return out;
  }

  /** Roles to enable for `SET ROLE`/`role=`: each must be granted to the user (SET_NON_GRANTED_ROLE otherwise). */
  checkSettableRoles(user: string, roles: RoleSet): void {
    if (this.isAdmin(user)) return;
    const granted = new Set((this.principals.get(key("user", user))?.roles ?? []).map((r) => r.role));
    for (const name of roles.names) {
      if (!this.principals.has(key("role", name))) throw unknown("role", name);
      if (!granted.has(name)) throw new FrontError(512, "SET_NON_GRANTED_ROLE", `Role ${name} should be granted to set as a current`);
    }
  }

  /** The user's enabled roles (default roles, or what SET ROLE chose) and every role granted to them. */
  private enabledRoles(user: string, current: RoleSet | "default"): Principal[] {
    const p = this.principals.get(key("user", user));
    if (!p) return [];
    const set = current === "default" ? p.defaultRoles : current;
    const direct = p.roles.map((r) => r.role).filter((r) => (set.all ? !set.except.includes(r) : set.names.includes(r)));
    const out = new Map<string, Principal>();
    const visit = (name: string): void => {
      const role = this.principals.get(key("role", name));
      if (!role || out.has(name)) return;
      out.set(name, role);
      role.roles.forEach((r) => visit(r.role));
    };
    direct.forEach(visit);
    return [...out.values()];
  }

  rightsOf(user: string, current: RoleSet | "default" = "default"): EffectiveRights {
    const own = this.principals.get(key("user", user))?.rights ?? [];
    return new EffectiveRights(user, [own, ...this.enabledRoles(user, current).map((r) => r.rights)], this.isAdmin(user));
  }

  /** Apply an access statement (already classified as such) on behalf of `actor`. */
  apply(sql: string, actor: Actor): AccessChange {
    const cmd = parseAccessStatement(sql, actor.database);
    if (cmd.verb === "set-role") {
      if (cmd.roles !== "default") this.checkSettableRoles(actor.user, cmd.roles);
      return { summary: "set role", currentRoles: cmd.roles };
    }
    const rights = this.rightsOf(actor.user, actor.currentRoles);
    this.authorize(cmd, rights, actor.readonly);
    return this.execute(cmd);
  }

  private authorize(cmd: AccessCommand, rights: EffectiveRights, ro: ReadonlyContext): void {
    const need = (privilege: string): void => {
      if (!rights.isGranted(privilege, {})) throw accessDenied(rights.user, { privilege });
    };
    if (ro.readonly > 0) {
      if (cmd.verb === "grant" || cmd.verb === "revoke") throw new FrontError(164, "READONLY", `${rights.user}: Cannot change grants in readonly mode`);
      throw readonlyRefusal(rights.user, ro);
    }
    switch (cmd.verb) {
      case "create":
      case "alter":
      case "drop":
        return need(`${cmd.verb.toUpperCase()} ${cmd.kind.toUpperCase()}`);
      case "set-default-role":
        return need("ALTER USER");
      case "grant":
      case "revoke":
        return this.authorizeElements(cmd.elements, rights);
      case "grant-role":
      case "revoke-role":
        return this.authorizeRoles(cmd.roles, rights);
      case "set-role":
        return;
    }
  }

  private authorizeElements(elements: readonly PrivilegeElement[], rights: EffectiveRights): void {
    for (const e of elements) {
      for (const privilege of e.privileges) {
        const target = { ...(e.target.database !== "*" ? { database: e.target.database } : {}), ...(e.target.table !== "*" ? { table: e.target.table } : {}) };
        if (rights.isGranted(privilege, target, { grantOption: true })) continue;
        const requirement = { privilege, ...target, ...(e.target.columns ? { columns: e.target.columns } : {}) };
        throw accessDenied(rights.user, requirement, true, rights.isGranted(privilege, target));
      }
    }
  }

  private authorizeRoles(roles: readonly string[], rights: EffectiveRights): void {
    if (rights.isGranted("ROLE ADMIN", {})) return;
    const held = this.principals.get(key("user", rights.user))?.roles ?? [];
    for (const role of roles) {
      if (!held.some((r) => r.role === role && r.adminOption)) {
        throw new FrontError(497, "ACCESS_DENIED", `${rights.user}: Not enough privileges. To execute this query, it's necessary to have the grant ROLE ADMIN ON *.* or the role ${role} with ADMIN OPTION`);
      }
    }
  }

  private execute(cmd: Exclude<AccessCommand, { verb: "set-role" }>): AccessChange {
    switch (cmd.verb) {
      case "create":
        return this.create(cmd);
      case "alter":
        return this.alter(cmd);
      case "drop":
        return this.drop(cmd.kind, cmd.names, cmd.ifExists);
      case "grant":
      case "revoke":
        return this.changeRights(cmd);
      case "grant-role":
      case "revoke-role":
        return this.changeRoles(cmd);
      case "set-default-role":
        for (const name of cmd.users) {
          const p = this.principals.get(key("user", name));
          if (!p) throw unknown("user", name);
          p.defaultRoles = cmd.roles;
        }
        return { summary: `set default role for ${cmd.users.join(", ")}` };
    }
  }

  /** GRANT and REVOKE of privileges append to the grantee's ordered operations (rights.ts). */
  private changeRights(cmd: Extract<AccessCommand, { verb: "grant" | "revoke" }>): AccessChange {
    const grant = cmd.verb === "grant";
    for (const p of this.grantees(cmd.grantees)) {
      if (grant && cmd.replace) p.rights = [];
      for (const e of cmd.elements) {
        p.rights.push({ kind: cmd.verb, privileges: e.privileges, target: e.target, grantOption: grant ? cmd.grantOption : cmd.grantOptionOnly });
      }
    }
    return { summary: `${cmd.verb} ${cmd.elements.map((e) => e.privileges.join(", ")).join("; ")} ${grant ? "to" : "from"} ${cmd.grantees.join(", ")}` };
  }

  private changeRoles(cmd: Extract<AccessCommand, { verb: "grant-role" | "revoke-role" }>): AccessChange {
    if (cmd.verb === "grant-role") {
      for (const role of cmd.roles) if (!this.principals.has(key("role", role))) throw unknown("role", role);
      for (const p of this.grantees(cmd.grantees)) {
        p.roles = [...p.roles.filter((r) => !cmd.roles.includes(r.role)), ...cmd.roles.map((role) => ({ role, adminOption: cmd.adminOption }))];
      }
      return { summary: `grant ${cmd.roles.join(", ")} to ${cmd.grantees.join(", ")}` };
    }
    for (const p of this.grantees(cmd.grantees)) {
      p.roles = cmd.adminOptionOnly ? p.roles.map((r) => (cmd.roles.includes(r.role) ? { ...r, adminOption: false } : r)) : p.roles.filter((r) => !cmd.roles.includes(r.role));
    }
    return { summary: `revoke ${cmd.roles.join(", ")} from ${cmd.grantees.join(", ")}` };
  }

  private create(cmd: Extract<AccessCommand, { verb: "create" }>): AccessChange {
    const { kind, options } = cmd;
    for (const name of cmd.names) {
      const exists = this.principals.has(key(kind, name)) || (kind === "user" && name === this.adminUser);
      if (exists && cmd.ifNotExists) continue;
      if (exists && !cmd.orReplace) {
        throw new FrontError(493, "ACCESS_ENTITY_ALREADY_EXISTS", `${kind} \`${name}\`: cannot insert because ${kind} \`${name}\` already exists in local_directory`);
      }
      const p: Principal = { kind, name, auth: options.auth ?? { type: "none" }, rights: [], roles: [], defaultRoles: options.defaultRoles ?? ALL_ROLES, settings: options.settings ?? {} };
      if (typeof options.defaultDatabase === "string") p.defaultDatabase = options.defaultDatabase;
      this.principals.set(key(kind, name), p);
    }
    return { summary: `create ${kind} ${cmd.names.join(", ")}` };
  }

  private alter(cmd: Extract<AccessCommand, { verb: "alter" }>): AccessChange {
    const { kind, options } = cmd;
    for (const name of cmd.names) {
      const p = this.principals.get(key(kind, name));
      if (!p) {
        if (cmd.ifExists) continue;
        throw unknown(kind, name);
      }
      if (options.auth) p.auth = options.auth;
      if (options.defaultRoles) p.defaultRoles = options.defaultRoles;
      if (options.defaultDatabase === null) delete p.defaultDatabase;
      else if (options.defaultDatabase !== undefined) p.defaultDatabase = options.defaultDatabase;
      if (options.settings) p.settings = { ...options.settings };
      if (options.renameTo !== undefined) {
        this.principals.delete(key(kind, name));
        p.name = options.renameTo;
        this.principals.set(key(kind, p.name), p);
      }
    }
    return { summary: `alter ${kind} ${cmd.names.join(", ")}` };
  }

  private drop(kind: "user" | "role", names: readonly string[], ifExists: boolean): AccessChange {
    for (const name of names) if (!this.principals.has(key(kind, name)) && !ifExists) throw unknown(kind, name);
    for (const name of names) {
      this.principals.delete(key(kind, name));
      if (kind === "role") for (const p of this.principals.values()) p.roles = p.roles.filter((r) => r.role !== name);
    }
    return { summary: `drop ${kind} ${names.join(", ")}` };
  }

  private grantees(names: readonly string[]): Principal[] {
    return names.map((name) => {
      const p = this.principals.get(key("user", name)) ?? this.principals.get(key("role", name));
      if (!p) throw name === this.adminUser ? new FrontError(495, "ACCESS_STORAGE_READONLY", `Cannot update user \`${name}\` in users_xml because this storage is readonly`) : unknown("role", name);
      return p;
    });
  }
}

function key(kind: string, name: string): string {
  return `${kind}:${name}`;
}

function unknown(kind: "user" | "role", name: string): FrontError {
  return kind === "user"
    ? new FrontError(192, "UNKNOWN_USER", `There is no user \`${name}\` in user directories`)
    : new FrontError(511, "UNKNOWN_ROLE", `There is no role \`${name}\` in user directories`);
}
