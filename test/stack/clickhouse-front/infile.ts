/**
 * Inserts in formats that read their input by seeking (Parquet's footer is at the end).
 * chDB parses an INSERT's raw data as a continuation of the query text, a stream it cannot
 * seek, so a Parquet body over about 1 MB fails with "wrong magic bytes at the end of
 * file" while a server reads it fine. The front hands such data to the engine as a file
 * (`INSERT ... FROM INFILE`), which keeps the INSERT's semantics (columns matched by name).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quoteString, type ParsedStatement } from "./sql.js";

const SEEKING_FORMATS = /^(Parquet|ORC|Arrow|Npy)$/i;

export function needsInfile(statement: ParsedStatement): boolean {
  return statement.dataOffset !== undefined && statement.format !== undefined && SEEKING_FORMATS.test(statement.format);
}

/** The statement with `FROM INFILE 'path'` before its top-level FORMAT clause. */
export function infileSql(statement: ParsedStatement, path: string): string {
  const tokens = statement.tokens;
  for (let i = tokens.length - 2; i >= 0; i--) {
    const t = tokens[i];
    if (t !== undefined && t.depth === 0 && t.text.toUpperCase() === "FORMAT") {
      return `${statement.sql.slice(0, t.start)}FROM INFILE ${quoteString(path)} ${statement.sql.slice(t.start)}`;
    }
  }
  throw new Error(`no FORMAT clause in ${statement.sql.slice(0, 80)}`);
}

/** Runs `run(sql)` with `data` in a temporary file named in the statement. */
export async function withInfile<T>(statement: ParsedStatement, data: Buffer, run: (sql: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "clickhouse-front-infile-"));
  try {
    const path = join(dir, `data.${(statement.format ?? "bin").toLowerCase()}`);
    await writeFile(path, data);
    return await run(infileSql(statement, path));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
