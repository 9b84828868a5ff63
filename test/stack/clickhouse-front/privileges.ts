/**
 * ClickHouse's privilege names and their hierarchy, as a server grants and checks them
 * (written from the access types a 26.x server declares: each privilege has a parent group,
 * and a grant of a group grants every privilege under it). Only the privileges a test or
 * the product can meet are listed; an unknown name in GRANT is refused like a server does.
 *
 * Pure: names in, names out.
 */
import { FrontError } from "./errors.js";

/** Where a privilege applies: decides which `ON` targets a GRANT accepts and how a check reads. */
export type PrivilegeLevel = "global" | "database" | "table" | "column" | "group" | "source";

interface PrivilegeDef {
  readonly name: string;
  readonly parent: string | undefined;
  readonly level: PrivilegeLevel;
  readonly aliases: readonly string[];
}

/** [name, parent group, level, aliases]; a parent is listed after its children like in the server. */
const DEFS: readonly (readonly [string, string | undefined, PrivilegeLevel, readonly string[]])[] = [
  ["SHOW DATABASES", "SHOW", "database", []],
  ["SHOW TABLES", "SHOW", "table", []],
  ["SHOW COLUMNS", "SHOW", "column", []],
  ["SHOW DICTIONARIES", "SHOW", "table", []],
  ["SHOW", "ALL", "group", []],
  ["CHECK", "ALL", "table", []],
  ["SELECT", "ALL", "column", []],
  ["INSERT", "ALL", "column", []],
  ["ALTER UPDATE", "ALTER TABLE", "column", ["UPDATE"]],
  ["ALTER DELETE", "ALTER TABLE", "column", ["DELETE"]],
  ["ALTER ADD COLUMN", "ALTER COLUMN", "column", ["ADD COLUMN"]],
  ["ALTER MODIFY COLUMN", "ALTER COLUMN", "column", ["MODIFY COLUMN"]],
  ["ALTER DROP COLUMN", "ALTER COLUMN", "column", ["DROP COLUMN"]],
  ["ALTER COMMENT COLUMN", "ALTER COLUMN", "column", ["COMMENT COLUMN"]],
  ["ALTER CLEAR COLUMN", "ALTER COLUMN", "column", ["CLEAR COLUMN"]],
  ["ALTER RENAME COLUMN", "ALTER COLUMN", "column", ["RENAME COLUMN"]],
  ["ALTER MATERIALIZE COLUMN", "ALTER COLUMN", "column", ["MATERIALIZE COLUMN"]],
  ["ALTER COLUMN", "ALTER TABLE", "group", []],
  ["ALTER MODIFY COMMENT", "ALTER TABLE", "table", ["MODIFY COMMENT"]],
  ["ALTER ORDER BY", "ALTER INDEX", "table", ["ALTER MODIFY ORDER BY", "MODIFY ORDER BY"]],
  ["ALTER SAMPLE BY", "ALTER INDEX", "table", ["ALTER MODIFY SAMPLE BY", "MODIFY SAMPLE BY"]],
  ["ALTER ADD INDEX", "ALTER INDEX", "table", ["ADD INDEX"]],
  ["ALTER DROP INDEX", "ALTER INDEX", "table", ["DROP INDEX"]],
  ["ALTER MATERIALIZE INDEX", "ALTER INDEX", "table", ["MATERIALIZE INDEX"]],
  ["ALTER CLEAR INDEX", "ALTER INDEX", "table", ["CLEAR INDEX"]],
  ["ALTER INDEX", "ALTER TABLE", "group", ["INDEX"]],
  ["ALTER ADD PROJECTION", "ALTER PROJECTION", "table", ["ADD PROJECTION"]],
  ["ALTER DROP PROJECTION", "ALTER PROJECTION", "table", ["DROP PROJECTION"]],
  ["ALTER MATERIALIZE PROJECTION", "ALTER PROJECTION", "table", ["MATERIALIZE PROJECTION"]],
  ["ALTER CLEAR PROJECTION", "ALTER PROJECTION", "table", ["CLEAR PROJECTION"]],
  ["ALTER PROJECTION", "ALTER TABLE", "group", ["PROJECTION"]],
  ["ALTER ADD CONSTRAINT", "ALTER CONSTRAINT", "table", ["ADD CONSTRAINT"]],
  ["ALTER DROP CONSTRAINT", "ALTER CONSTRAINT", "table", ["DROP CONSTRAINT"]],
  ["ALTER CONSTRAINT", "ALTER TABLE", "group", ["CONSTRAINT"]],
  ["ALTER TTL", "ALTER TABLE", "table", ["ALTER MODIFY TTL", "MODIFY TTL"]],
  ["ALTER MATERIALIZE TTL", "ALTER TABLE", "table", ["MATERIALIZE TTL"]],
  ["ALTER SETTINGS", "ALTER TABLE", "table", ["ALTER SETTING", "ALTER MODIFY SETTING", "MODIFY SETTING", "RESET SETTING"]],
  ["ALTER MOVE PARTITION", "ALTER TABLE", "table", ["ALTER MOVE PART", "MOVE PARTITION", "MOVE PART"]],
  ["ALTER FETCH PARTITION", "ALTER TABLE", "table", ["ALTER FETCH PART", "FETCH PARTITION"]],
  ["ALTER FREEZE PARTITION", "ALTER TABLE", "table", ["FREEZE PARTITION", "UNFREEZE"]],
  ["ALTER TABLE", "ALTER", "group", []],
  ["ALTER DATABASE SETTINGS", "ALTER DATABASE", "database", ["ALTER DATABASE SETTING", "ALTER MODIFY DATABASE SETTING", "MODIFY DATABASE SETTING"]],
  ["ALTER MODIFY DATABASE COMMENT", "ALTER DATABASE", "database", ["MODIFY DATABASE COMMENT"]],
  ["ALTER DATABASE", "ALTER", "group", []],
  ["ALTER VIEW MODIFY QUERY", "ALTER VIEW", "table", ["ALTER TABLE MODIFY QUERY"]],
  ["ALTER VIEW MODIFY REFRESH", "ALTER VIEW", "table", []],
  ["ALTER VIEW", "ALTER", "group", []],
  ["ALTER", "ALL", "group", []],
  ["CREATE DATABASE", "CREATE", "database", []],
  ["CREATE TABLE", "CREATE", "table", []],
  ["CREATE VIEW", "CREATE", "table", []],
  ["CREATE DICTIONARY", "CREATE", "table", []],
  ["CREATE TEMPORARY TABLE", "CREATE ARBITRARY TEMPORARY TABLE", "global", []],
  ["CREATE ARBITRARY TEMPORARY TABLE", "CREATE", "global", []],
  ["CREATE FUNCTION", "CREATE", "global", []],
  ["CREATE", "ALL", "group", []],
  ["DROP DATABASE", "DROP", "database", []],
  ["DROP TABLE", "DROP", "table", []],
  ["DROP VIEW", "DROP", "table", []],
  ["DROP DICTIONARY", "DROP", "table", []],
  ["DROP FUNCTION", "DROP", "global", []],
  ["DROP", "ALL", "group", []],
  ["UNDROP TABLE", "ALL", "table", []],
  ["TRUNCATE", "ALL", "table", ["TRUNCATE TABLE"]],
  ["OPTIMIZE", "ALL", "table", ["OPTIMIZE TABLE"]],
  ["BACKUP", "ALL", "table", []],
  ["KILL QUERY", "ALL", "global", []],
  ["CREATE USER", "ACCESS MANAGEMENT", "global", []],
  ["ALTER USER", "ACCESS MANAGEMENT", "global", []],
  ["DROP USER", "ACCESS MANAGEMENT", "global", []],
  ["CREATE ROLE", "ACCESS MANAGEMENT", "global", []],
  ["ALTER ROLE", "ACCESS MANAGEMENT", "global", []],
  ["DROP ROLE", "ACCESS MANAGEMENT", "global", []],
  ["ROLE ADMIN", "ACCESS MANAGEMENT", "global", []],
  ["SHOW USERS", "SHOW ACCESS", "global", ["SHOW CREATE USER"]],
  ["SHOW ROLES", "SHOW ACCESS", "global", ["SHOW CREATE ROLE"]],
  ["SHOW ACCESS", "ACCESS MANAGEMENT", "group", []],
  ["ACCESS MANAGEMENT", "ALL", "group", []],
  ["TABLE ENGINE", "ALL", "global", []],
  ["SYSTEM FLUSH LOGS", "SYSTEM FLUSH", "global", ["FLUSH LOGS"]],
  ["SYSTEM FLUSH ASYNC INSERT QUEUE", "SYSTEM FLUSH", "global", ["FLUSH ASYNC INSERT QUEUE"]],
  ["SYSTEM FLUSH", "SYSTEM", "group", []],
  ["SYSTEM MERGES", "SYSTEM", "table", ["SYSTEM STOP MERGES", "SYSTEM START MERGES", "STOP MERGES", "START MERGES"]],
  ["SYSTEM TTL MERGES", "SYSTEM", "table", ["SYSTEM STOP TTL MERGES", "SYSTEM START TTL MERGES", "STOP TTL MERGES", "START TTL MERGES"]],
  ["SYSTEM SYNC REPLICA", "SYSTEM", "table", ["SYNC REPLICA"]],
  ["SYSTEM DROP CACHE", "SYSTEM", "group", ["DROP CACHE"]],
  ["SYSTEM RELOAD", "SYSTEM", "group", []],
  ["SYSTEM", "ALL", "group", []],
  ["dictGet", "ALL", "table", ["dictHas", "dictGetHierarchy", "dictIsIn"]],
  ["INTROSPECTION", "ALL", "group", ["INTROSPECTION FUNCTIONS"]],
  ["READ", "ALL", "source", ["SOURCE READ"]],
  ["WRITE", "ALL", "source", ["SOURCE WRITE"]],
  ["CLUSTER", "ALL", "global", []],
  ["FILE", "SOURCES", "global", []],
  ["URL", "SOURCES", "global", []],
  ["REMOTE", "SOURCES", "global", []],
  ["MYSQL", "SOURCES", "global", []],
  ["POSTGRES", "SOURCES", "global", []],
  ["S3", "SOURCES", "global", []],
  ["AZURE", "SOURCES", "global", []],
  ["KAFKA", "SOURCES", "global", []],
  ["SOURCES", "ALL", "group", []],
  ["ALL", undefined, "group", ["ALL PRIVILEGES"]],
  ["NONE", undefined, "group", ["USAGE", "NO PRIVILEGES"]],
];

const BY_NAME = new Map<string, PrivilegeDef>();
const ALIASES = new Map<string, string>();
for (const [name, parent, level, aliases] of DEFS) {
  BY_NAME.set(name, { name, parent, level, aliases });
  ALIASES.set(name.toUpperCase(), name);
  for (const a of aliases) ALIASES.set(a.toUpperCase(), name);
}

/** The canonical name of a privilege as written in a GRANT (case-insensitive, aliases allowed). */
export function canonicalPrivilege(written: string): string {
  const name = ALIASES.get(written.trim().replace(/\s+/g, " ").toUpperCase());
  if (name === undefined) throw new FrontError(62, "SYNTAX_ERROR", `Syntax error: unknown access type ${written}`);
  return name;
}

export function privilegeLevel(name: string): PrivilegeLevel {
  return BY_NAME.get(name)?.level ?? "global";
}

/** True when holding `granted` gives `wanted` (the same privilege or a group above it). */
export function privilegeCovers(granted: string, wanted: string): boolean {
  if (granted === "NONE") return false;
  for (let p: string | undefined = wanted; p !== undefined; p = BY_NAME.get(p)?.parent) if (p === granted) return true;
  return false;
}

/**
 * Privileges that only apply to tables and below: any of them on a table makes the table
 * visible (SHOW TABLES / SHOW COLUMNS are implied by any grant on it, as on a server).
 */
export function isTableLevelOrBelow(name: string): boolean {
  const level = privilegeLevel(name);
  return level === "table" || level === "column" || level === "group" || level === "database";
}

/**
 * Privileges a server refuses under `readonly` (1 or 2): writes to tables, DDL, access
 * changes, SYSTEM and KILL QUERY. `CREATE TEMPORARY TABLE` is refused only under readonly=1.
 */
const READONLY_REFUSED_GROUPS = new Set(["ALTER", "CREATE", "DROP", "SYSTEM", "ACCESS MANAGEMENT"]);
const READONLY_REFUSED = new Set(["INSERT", "OPTIMIZE", "TRUNCATE", "KILL QUERY"]);
const TEMPORARY_TABLES = new Set(["CREATE TEMPORARY TABLE", "CREATE ARBITRARY TEMPORARY TABLE"]);

export function refusedInReadonly(name: string, readonly: number): boolean {
  if (readonly === 0 || name.startsWith("SHOW")) return false;
  if (TEMPORARY_TABLES.has(name)) return readonly === 1;
  if (READONLY_REFUSED.has(name)) return true;
  for (let p: string | undefined = name; p !== undefined; p = BY_NAME.get(p)?.parent) if (READONLY_REFUSED_GROUPS.has(p)) return true;
  return false;
}
