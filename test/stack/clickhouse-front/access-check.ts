/**
 * Checking a statement's required privileges against what a user holds, with the server's
 * refusals: ACCESS_DENIED (497) naming the missing grant, and READONLY (164) when the user
 * holds the grant but the query runs read-only (a server checks the grant first).
 */
import { FrontError } from "./errors.js";
import { privilegeLevel, refusedInReadonly } from "./privileges.js";
import { hasAnyOnDatabase, hasAnyOnTable, isGranted, type CheckTarget, type GrantedOptions, type RightsOp } from "./rights.js";

/** One privilege a statement needs, on a target (`table` undefined: the whole database; `database` undefined: global). */
export interface Requirement {
  readonly privilege: string;
  readonly database?: string;
  readonly table?: string;
  /** Columns to name in the refusal (the check itself is table-wide). */
  readonly columns?: readonly string[];
}

/** The rights of a user together with its enabled roles: granted when any of them grants. */
export class EffectiveRights {
  constructor(
    readonly user: string,
    /** The user's own operations first, then each enabled role's. */
    private readonly lists: readonly (readonly RightsOp[])[],
    /** The admin user holds everything with grant option, like a server's default user. */
    readonly full: boolean,
  ) {}

  isGranted(privilege: string, target: CheckTarget, opts: GrantedOptions = {}): boolean {
    return this.full || this.lists.some((ops) => isGranted(ops, privilege, target, opts));
  }

  /** Any privilege on the table: the table is visible in system.tables/system.columns. */
  seesTable(database: string, table: string): boolean {
    return this.full || isSystemVisible(database) || this.lists.some((ops) => hasAnyOnTable(ops, database, table));
  }

  seesDatabase(database: string, tables: readonly string[]): boolean {
    return this.full || isSystemVisible(database) || this.lists.some((ops) => hasAnyOnDatabase(ops, database, tables));
  }
}

/**
 * A server grants every user SELECT on the system and information_schema databases unless
 * `select_from_system_db_requires_grant` is set (ContextAccess's implicit grants), so their
 * tables are visible and readable without a grant.
 */
export function isSystemVisible(database: string): boolean {
  return database === "system" || database === "information_schema" || database === "INFORMATION_SCHEMA";
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name as a server prints it in a grant: back-quoted unless it is a plain identifier. */
export function backQuoteIfNeed(name: string): string {
  return PLAIN_NAME.test(name) ? name : "`" + name.replaceAll("\\", "\\\\").replaceAll("`", "\\`") + "`";
}

/** `SELECT(a, b) ON db.t`, `CREATE DATABASE ON db.*`, `KILL QUERY ON *.*`, `READ ON S3`. */
export function formatGrant(r: Requirement): string {
  const columns = r.columns && r.columns.length > 0 ? `(${r.columns.map(backQuoteIfNeed).join(", ")})` : "";
  if (privilegeLevel(r.privilege) === "source") return `${r.privilege} ON ${r.database ?? "*"}`;
  const db = r.database === undefined ? "*" : backQuoteIfNeed(r.database);
  const table = r.database === undefined || r.table === undefined ? "*" : backQuoteIfNeed(r.table);
  return `${r.privilege}${columns} ON ${db}.${table}`;
}

export function accessDenied(user: string, r: Requirement, withGrantOption = false, hasWithout = false): FrontError {
  const grant = formatGrant(r) + (withGrantOption ? " WITH GRANT OPTION" : "");
  const without = hasWithout ? " The required privileges have been granted, but without grant option." : "";
  return new FrontError(497, "ACCESS_DENIED", `${user}: Not enough privileges.${without} To execute this query, it's necessary to have the grant ${grant}`);
}

export interface ReadonlyContext {
  /** 0, 1 or 2, as the query's `readonly` setting. */
  readonly readonly: number;
  /** The request came as HTTP GET (changes the refusal's text). */
  readonly httpGet: boolean;
}

export function readonlyRefusal(user: string, ro: ReadonlyContext): FrontError {
  const hint = ro.httpGet ? ". For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries" : "";
  return new FrontError(164, "READONLY", `${user}: Cannot execute query in readonly mode${hint}`);
}

/** Check each requirement in order, as a server does for a statement's required access. */
export function checkRequirements(rights: EffectiveRights, requirements: readonly Requirement[], ro: ReadonlyContext): void {
  for (const r of requirements) {
    const target: CheckTarget = { ...(r.database !== undefined ? { database: r.database } : {}), ...(r.table !== undefined ? { table: r.table } : {}) };
    if (!rights.isGranted(r.privilege, target)) throw accessDenied(rights.user, r);
    if (refusedInReadonly(r.privilege, ro.readonly)) throw readonlyRefusal(rights.user, ro);
  }
}
