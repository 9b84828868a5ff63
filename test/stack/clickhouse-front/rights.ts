/**
 * The access rights of one user or role, as an ordered list of GRANT and REVOKE operations,
 * evaluated the way a server's rights tree answers them: a check on a target applies, in
 * order, every operation whose target contains it (GRANT adds, REVOKE removes), so
 * `GRANT SELECT ON *.*` then `REVOKE SELECT ON db.t` leaves every table but db.t readable,
 * and a later `GRANT SELECT ON db.t` gives it back.
 *
 * Pure data and functions; persisted as JSON in the front's access.json.
 */
import { privilegeCovers } from "./privileges.js";

/** `*` means any database or table. Columns are set only for column-level operations. */
export interface RightsTarget {
  readonly database: string;
  readonly table: string;
  readonly columns?: readonly string[];
}

export interface RightsOp {
  readonly kind: "grant" | "revoke";
  /** Canonical privilege names. */
  readonly privileges: readonly string[];
  readonly target: RightsTarget;
  /** grant: WITH GRANT OPTION; revoke: REVOKE GRANT OPTION FOR (removes only the option). */
  readonly grantOption: boolean;
}

/** What a check asks for: `table` undefined means the whole database, `database` undefined everything. */
export interface CheckTarget {
  readonly database?: string;
  readonly table?: string;
}

function contains(op: RightsTarget, t: CheckTarget): boolean {
  if (op.columns !== undefined) return false;
  if (op.database !== "*" && op.database !== t.database) return false;
  if (op.table !== "*" && op.table !== t.table) return false;
  return true;
}

/** A revoke strictly inside the checked target (it takes part of the target away). */
function inside(op: RightsTarget, t: CheckTarget): boolean {
  if (t.database !== undefined && op.database !== t.database) return false;
  if (t.table !== undefined && (op.table !== t.table || op.columns === undefined)) return false;
  return !contains(op, t);
}

export interface GrantedOptions {
  /** Ask for the grant option as well. */
  readonly grantOption?: boolean;
  /** Accept a grant on part of the target (a revoke of something inside it does not count). */
  readonly partly?: boolean;
}

/** Whether `ops` grant `privilege` on the whole target (as a server's check does), or on part of it. */
export function isGranted(ops: readonly RightsOp[], privilege: string, target: CheckTarget, opts: GrantedOptions = {}): boolean {
  let granted = false;
  for (const op of ops) {
    if (!op.privileges.some((p) => privilegeCovers(p, privilege))) continue;
    if (op.kind === "grant") {
      if (contains(op.target, target) && (!opts.grantOption || op.grantOption)) granted = true;
    } else if (!opts.grantOption && op.grantOption) {
      // REVOKE GRANT OPTION FOR leaves the privilege itself.
      continue;
    } else if (contains(op.target, target) || (!opts.partly && inside(op.target, target))) {
      granted = false;
    }
  }
  return granted;
}

function heldPrivileges(ops: readonly RightsOp[]): string[] {
  return [...new Set(ops.flatMap((op) => op.privileges))].filter((p) => p !== "NONE");
}

/**
 * Whether `ops` grant anything on the table (a privilege on the table or one of its columns,
 * or on a wildcard containing it): what makes a table visible in system.tables,
 * system.columns and SHOW TABLES on a server (SHOW TABLES/COLUMNS are implied by any grant).
 */
export function hasAnyOnTable(ops: readonly RightsOp[], database: string, table: string): boolean {
  return heldPrivileges(ops).some((p) => isGranted(ops, p, { database, table }, { partly: true }) || columnGrantSurvives(ops, p, database, table));
}

function columnGrantSurvives(ops: readonly RightsOp[], privilege: string, database: string, table: string): boolean {
  let granted = false;
  for (const op of ops) {
    if (!op.privileges.some((p) => privilegeCovers(p, privilege))) continue;
    const onTable = op.target.database === database && op.target.table === table;
    if (op.kind === "grant" && onTable && op.target.columns !== undefined) granted = true;
    else if (op.kind === "revoke" && !op.grantOption && (contains(op.target, { database, table }) || onTable)) granted = false;
  }
  return granted;
}

/** Whether `ops` grant anything on the database or on one of `tables` in it (SHOW DATABASES is implied by either). */
export function hasAnyOnDatabase(ops: readonly RightsOp[], database: string, tables: readonly string[]): boolean {
  if (heldPrivileges(ops).some((p) => isGranted(ops, p, { database }, { partly: true }))) return true;
  return tables.some((t) => hasAnyOnTable(ops, database, t));
}
