/**
 * The tables and table functions a SELECT reads, taken from the engine's own analysis
 * (`EXPLAIN QUERY TREE`), so CTEs, subqueries, JOINs, IN-subqueries and aliases resolve
 * exactly as the server's analyzer resolves them before it checks SELECT privileges.
 *
 * Pure: parses the EXPLAIN text.
 */

export interface TableRead {
  readonly database: string;
  readonly table: string;
  /** Columns the query reads from it, in first-use order (for the refusal's text). */
  readonly columns: string[];
}

export interface TableFunctionCall {
  readonly name: string;
  /** Constant arguments, as strings, in order. */
  readonly args: readonly string[];
}

export interface QueryReads {
  readonly tables: TableRead[];
  readonly functions: TableFunctionCall[];
}

const NODE = /^(\s*)(TABLE|TABLE_FUNCTION|COLUMN|CONSTANT) id: (\d+)(.*)$/;

function field(rest: string, name: string): string | undefined {
  const m = new RegExp(`[,\\s]${name}: (.*?)(?:, [a-z_]+: |$)`).exec(rest);
  return m?.[1];
}

/** `a.b` where either part may be back-quoted. */
function splitQualified(name: string): { database: string; table: string } {
  const m = /^(`(?:[^`\\]|\\.)*`|[^.]*)\.(.*)$/.exec(name);
  const unq = (s: string): string => (s.startsWith("`") ? s.slice(1, -1).replace(/\\(.)/g, "$1") : s);
  return m ? { database: unq(m[1] as string), table: unq(m[2] as string) } : { database: "", table: unq(name) };
}

function constantValue(raw: string): string {
  const s = raw.trim();
  if (s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1).replace(/\\(.)/g, "$1");
  return s;
}

interface Node {
  readonly indent: number;
  readonly kind: string;
  readonly id: string;
  readonly rest: string;
}

function nodes(text: string): Node[] {
  const out: Node[] = [];
  for (const line of text.split("\n")) {
    const m = NODE.exec(line);
    if (m) out.push({ indent: (m[1] as string).length, kind: m[2] as string, id: m[3] as string, rest: m[4] as string });
  }
  return out;
}

/** Parse `EXPLAIN QUERY TREE` text (TSV-unescaped, one node per line). */
export function parseQueryTree(text: string): QueryReads {
  const all = nodes(text);
  const tables = new Map<string, TableRead>();
  const byId = new Map<string, TableRead>();
  const functions: TableFunctionCall[] = [];
  let open: { indent: number; args: string[] } | undefined;
  const addTable = (n: Node, name: string): void => {
    const { database, table } = splitQualified(name);
    const k = `${database}\u0000${table}`;
    const read = tables.get(k) ?? { database, table, columns: [] };
    tables.set(k, read);
    byId.set(n.id, read);
  };
  for (const n of all) {
    if (open && n.indent <= open.indent) open = undefined;
    const name = n.kind === "TABLE" ? field(n.rest, "table_name") : undefined;
    if (name !== undefined) addTable(n, name);
    else if (n.kind === "TABLE_FUNCTION") {
      const call = { name: field(n.rest, "table_function_name") ?? "", args: [] as string[] };
      functions.push(call);
      open = { indent: n.indent, args: call.args };
    } else if (n.kind === "CONSTANT" && open) {
      const value = field(n.rest, "constant_value");
      if (value !== undefined) open.args.push(constantValue(value));
    }
  }
  attachColumns(all, byId);
  return { tables: [...tables.values()], functions };
}

/** Columns point at their table by id; the projection lists them before the JOIN TREE names the table. */
function attachColumns(all: readonly Node[], byId: ReadonlyMap<string, TableRead>): void {
  for (const n of all.filter((x) => x.kind === "COLUMN")) {
    const read = byId.get(field(n.rest, "source_id") ?? "");
    const column = field(n.rest, "column_name");
    if (read && column !== undefined && !read.columns.includes(column)) read.columns.push(column);
  }
}

/** Undo TabSeparated escaping of one output line. */
export function unescapeTsvLine(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ t: "\t", n: "\n", "\\": "\\", r: "\r", "0": "\0" })[c] ?? c);
}
