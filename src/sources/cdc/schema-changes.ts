/**
 * What a source-side schema change means for the target table, decided from the columns
 * before and after (pure). ADD COLUMN is applied (before any row carrying the column is
 * inserted); DROP COLUMN is applied; a RENAME (one column gone and one new at the same
 * place with the same type) is applied as RENAME COLUMN; a type change is not applied but
 * reported with the fix, as is a change to a sorting-key column, since ClickHouse cannot
 * alter those in place. Nothing here crashes the pipe: problems are conditions.
 */
import { quoteIdent } from "../../clickhouse/client.js";
import type { SourceColumn } from "./model.js";

export type SchemaAlter =
  | { readonly kind: "add"; readonly column: string; readonly type: string; readonly after?: string | undefined }
  | { readonly kind: "drop"; readonly column: string }
  | { readonly kind: "rename"; readonly from: string; readonly to: string };

export interface SchemaPlan {
  readonly alters: readonly SchemaAlter[];
  /** Changes not applied, each a sentence with the fix (raised as a condition / clickpipes_log warning). */
  readonly problems: readonly string[];
}

/** New columns are Nullable: rows inserted before the change have no value for them. */
function nullable(type: string): string {
  return type.startsWith("Nullable(") || type.startsWith("Array(") || type.startsWith("Map(") ? type : `Nullable(${type})`;
}

function renamePairs(before: readonly SourceColumn[], after: readonly SourceColumn[]): Map<string, string> {
  const names = new Set(after.map((c) => c.name));
  const old = new Set(before.map((c) => c.name));
  const pairs = new Map<string, string>();
  before.forEach((c, i) => {
    const successor = after[i];
    if (names.has(c.name) || successor === undefined || old.has(successor.name)) return;
    if (successor.sourceType === c.sourceType) pairs.set(c.name, successor.name);
  });
  return pairs;
}

/**
 * The alters that bring a target table from `before` to `after` (both the source's replicated
 * columns, excluded ones already removed). `keys` are the target's ORDER BY columns.
 */
export function planSchemaChange(table: string, before: readonly SourceColumn[], after: readonly SourceColumn[], keys: readonly string[]): SchemaPlan {
  const alters: SchemaAlter[] = [];
  const problems: string[] = [];
  const keySet = new Set(keys);
  const afterByName = new Map(after.map((c) => [c.name, c]));
  const renames = renamePairs(before, after);
  const renamedTo = new Set(renames.values());
  for (const col of before) {
    const now = afterByName.get(col.name);
    const to = renames.get(col.name);
    if (now !== undefined) {
      if (now.sourceType !== col.sourceType) {
        problems.push(
          `${table}.${col.name} changed type from ${col.sourceType} to ${now.sourceType}: ClickHouse keeps ${col.clickhouseType}; resync the pipe (annotation clickpipes.io/resync) to rebuild ${table} with the new type`,
        );
      }
    } else if (keySet.has(col.name)) {
      problems.push(`${table}.${col.name} is in the sorting key and was ${to === undefined ? "dropped" : `renamed to ${to}`} at the source: resync the pipe to rebuild ${table}`);
    } else if (to !== undefined) {
      alters.push({ kind: "rename", from: col.name, to });
    } else {
      alters.push({ kind: "drop", column: col.name });
    }
  }
  const beforeNames = new Set(before.map((c) => c.name));
  after.forEach((col, i) => {
    if (beforeNames.has(col.name) || renamedTo.has(col.name)) return;
    alters.push({ kind: "add", column: col.name, type: nullable(col.clickhouseType), after: i === 0 ? undefined : after[i - 1]?.name });
  });
  return { alters, problems };
}

/** One ALTER TABLE statement per alter, idempotent so a replay after a crash does no harm. */
export function alterSql(database: string, table: string, alter: SchemaAlter): string {
  const t = `${quoteIdent(database)}.${quoteIdent(table)}`;
  switch (alter.kind) {
    case "add":
      return `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${quoteIdent(alter.column)} ${alter.type}`;
    case "drop":
      return `ALTER TABLE ${t} DROP COLUMN IF EXISTS ${quoteIdent(alter.column)}`;
    case "rename":
      return `ALTER TABLE ${t} RENAME COLUMN IF EXISTS ${quoteIdent(alter.from)} TO ${quoteIdent(alter.to)}`;
  }
}
