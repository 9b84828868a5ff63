/**
 * The source shape each target table was last brought to, kept in the checkpoint store
 * (stream `schema/<target>`), so that after a restart the Relation messages replayed from
 * the slot are compared with what the target has, not with today's catalog.
 */
import { pgColumn, type PgColumn } from "./catalog.js";
import type { PgType } from "./types.js";

interface StoredColumn {
  readonly name: string;
  readonly type: PgType;
  readonly nullable: boolean;
}

export function schemaStream(target: string): string {
  return `schema/${target}`;
}

export function encodeColumns(columns: readonly PgColumn[]): string {
  return JSON.stringify(columns.map((c): StoredColumn => ({ name: c.name, type: c.type, nullable: c.nullable })));
}

/** Stored columns, or undefined when absent or unreadable (then the catalog's are used). */
export function decodeColumns(stored: string | undefined): PgColumn[] | undefined {
  if (stored === undefined) return undefined;
  try {
    const parsed = JSON.parse(stored) as StoredColumn[];
    return Array.isArray(parsed) ? parsed.map((c) => pgColumn(c.name, c.type, c.nullable)) : undefined;
  } catch {
    // Written by another release: fall back to the catalog.
    return undefined;
  }
}
