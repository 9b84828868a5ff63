/**
 * SQL for the per-pipe ClickHouse user and its grants. The operator runs these with the
 * endpoint's admin credentials; the consumer then connects as the pipe's user.
 *
 * What the consumer does as that user, and so what `destinationOnly` grants (docs/security.md):
 * - INSERT into each destination table, its `<table>_clickpipes_error` table and `clickpipes_log`;
 * - INSERT and SELECT on `clickpipes_state` (the checkpoint store reads back its positions);
 * - reading the destination's columns from system.columns at start needs no grant of its
 *   own: ClickHouse shows a table's columns to a user with any privilege on the table.
 * It runs no DDL: the operator (or `clickpipes run`, with admin credentials) creates the tables.
 * `full` grants ALL on the destination database (for materialized views and dictionaries
 * fed by the table). `customRole` grants the named role, plus the pipe's own bookkeeping
 * tables so the pipe works whatever the role holds.
 *
 * Grants only add, so a running consumer never loses a right it still needs halfway through
 * a setup. When a pipe's grants change (full → destinationOnly, another custom role), the
 * operator drops and re-creates its user first (src/operator/clickhouse-ops.ts).
 */
import { createHash } from "node:crypto";
import { quoteIdent, quoteString } from "./client.js";
import { errorTableName, LOG_TABLE, STATE_TABLE } from "./ddl.js";
import { filesTableName } from "./files-table.js";

export type PipePermissions = { readonly kind: "full" } | { readonly kind: "destinationOnly" } | { readonly kind: "customRole"; readonly role: string };

/** Longest user name we generate; ClickHouse accepts more, but names show up in logs and grants. */
const MAX_USER_NAME = 64;

/**
 * The ClickHouse user of a pipe (`<namespace>/<name>`): readable, and unique thanks to a
 * hash of the pipe name, since `a-b/c` and `a/b-c` sanitise alike.
 */
export function pipeUserName(pipe: string): string {
  const hash = createHash("sha256").update(pipe).digest("hex").slice(0, 8);
  const readable = pipe.replace(/[^A-Za-z0-9_]+/g, "_").slice(0, MAX_USER_NAME - "clickpipes__".length - hash.length);
  return `clickpipes_${readable}_${hash}`;
}

/** Creates the user if absent; `setPasswordSql` brings an existing user's password in line with its Secret. */
export function createUserSql(user: string, password: string, defaultDatabase?: string): string {
  const db = defaultDatabase === undefined ? "" : ` DEFAULT DATABASE ${quoteIdent(defaultDatabase)}`;
  return `CREATE USER IF NOT EXISTS ${quoteIdent(user)} IDENTIFIED WITH sha256_password BY ${quoteString(password)}${db}`;
}

export function setPasswordSql(user: string, password: string): string {
  return `ALTER USER ${quoteIdent(user)} IDENTIFIED WITH sha256_password BY ${quoteString(password)}`;
}

export function dropUserSql(user: string): string {
  return `DROP USER IF EXISTS ${quoteIdent(user)}`;
}

function on(db: string, table: string): string {
  return `${quoteIdent(db)}.${quoteIdent(table)}`;
}

/** The bookkeeping tables every consumer writes, whatever its permissions: each table's error table, the log and the state. */
function bookkeepingGrants(db: string, tables: readonly string[], user: string): string[] {
  const u = quoteIdent(user);
  return [
    ...tables.map((table) => `GRANT INSERT ON ${on(db, errorTableName(table))} TO ${u}`),
    `GRANT INSERT ON ${on(db, LOG_TABLE)} TO ${u}`,
    `GRANT INSERT, SELECT ON ${on(db, STATE_TABLE)} TO ${u}`,
  ];
}

/**
 * An exactly-once consumer reads, when a partition is assigned, which positions beyond its
 * checkpoint its table and error table already hold (docs/design/exactly-once.md).
 */
function exactlyOnceGrants(db: string, tables: readonly string[], user: string): string[] {
  const u = quoteIdent(user);
  return tables.flatMap((table) => [`GRANT SELECT ON ${on(db, table)} TO ${u}`, `GRANT SELECT ON ${on(db, errorTableName(table))} TO ${u}`]);
}

/**
 * GRANT statements giving `user` what a pipe writing `tables` (all in `db`; one for a
 * streaming source, one per table mapping for CDC) needs under `permissions`, plus SELECT
 * on those tables when the pipe delivers exactly-once, and the source privileges a plugin
 * names (sourcePrivileges).
 */
export function grantsSql(
  permissions: PipePermissions,
  db: string,
  tables: readonly string[],
  user: string,
  opts: { exactlyOnce?: boolean; sourcePrivileges?: readonly string[]; filesTable?: boolean } = {},
): string[] {
  const u = quoteIdent(user);
  // A file source reads back and records its finished files (files-table.ts), whatever the permissions.
  const files = opts.filesTable === true ? tables.map((table) => `GRANT INSERT, SELECT ON ${on(db, filesTableName(table))} TO ${u}`) : [];
  // Sources ClickHouse reads itself (object storage: S3, AZURE, URL) need those global privileges.
  const reads = [...(opts.exactlyOnce === true ? exactlyOnceGrants(db, tables, user) : []), ...(opts.sourcePrivileges ?? []).map((p) => `GRANT ${p} ON *.* TO ${u}`)];
  switch (permissions.kind) {
    case "full":
      return [`GRANT ALL ON ${quoteIdent(db)}.* TO ${u}`];
    case "destinationOnly":
      return [...tables.map((table) => `GRANT INSERT ON ${on(db, table)} TO ${u}`), ...bookkeepingGrants(db, tables, user), ...files, ...reads];
    case "customRole":
      return [`GRANT ${quoteIdent(permissions.role)} TO ${u}`, `ALTER USER ${u} DEFAULT ROLE ALL`, ...bookkeepingGrants(db, tables, user), ...files, ...reads];
  }
}
