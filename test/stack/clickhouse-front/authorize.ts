/**
 * Authorizing one non-access statement for a user, on the engine connection that will run
 * it (so session temporary tables and the session's database resolve as for the query):
 * static requirements from requirements.ts, the tables a SELECT reads from the engine's
 * query tree, the server's rules for table functions, readonly, and the row filters a server
 * applies to system.tables / system.columns / system.databases (a user sees only tables it
 * holds some privilege on). Returns settings to add to the query (those filters).
 */
import { accessDenied, checkRequirements, isSystemVisible, type EffectiveRights, type ReadonlyContext, type Requirement } from "./access-check.js";
import { FrontError } from "./errors.js";
import { parseQueryTree, unescapeTsvLine, type QueryReads } from "./query-tree.js";
import { statementNeeds } from "./requirements.js";
import { quoteString, setNames, tokenize, upper, type ParsedStatement } from "./sql.js";

/** What authorization needs from the engine, on the query's own connection. */
export interface EngineProbe {
  /** `EXPLAIN QUERY TREE <sql>` with the request's parameters, as text. */
  explain(sql: string): Promise<string>;
  /** Every (database, table) the engine holds. */
  listTables(): Promise<{ database: string; table: string }[]>;
}

/** Table functions a server lets run without CREATE TEMPORARY TABLE (registered as allowed in readonly). */
const READONLY_TABLE_FUNCTIONS = new Set(["numbers", "numbers_mt", "zeros", "zeros_mt", "generateRandom", "generate_series", "generateSeries", "values", "view", "viewIfPermitted", "null", "format", "cluster", "clusterAllReplicas", "loop", "unnest"]);

/** Table functions reading outside the server need the source's grant too. */
const SOURCE_FUNCTIONS: Record<string, string> = {
  s3: "S3",
  s3Cluster: "S3",
  gcs: "S3",
  url: "URL",
  urlCluster: "URL",
  file: "FILE",
  remote: "REMOTE",
  remoteSecure: "REMOTE",
  mysql: "MYSQL",
  postgresql: "POSTGRES",
  azureBlobStorage: "AZURE",
};

const FILTERED = { tables: "system.tables", columns: "system.columns", databases: "system.databases" } as const;
type Filtered = keyof typeof FILTERED;

export interface AuthorizeInput {
  readonly rights: EffectiveRights;
  readonly statement: ParsedStatement;
  readonly database: string;
  readonly readonly: ReadonlyContext;
}

export async function authorizeStatement(probe: EngineProbe, input: AuthorizeInput): Promise<Map<string, string>> {
  const { rights, statement, readonly: ro } = input;
  const needs = statementNeeds(statement.tokens, statement.sql, input.database);
  if (needs.changesSettings && ro.readonly === 1) {
    const name = setNames(statement.tokens)[0] ?? "";
    throw new FrontError(164, "READONLY", `Cannot modify '${name}' setting in readonly mode`);
  }
  checkRequirements(rights, needs.requirements, ro);
  const filtered = new Set<Filtered>(needs.filtered);
  if (needs.useDatabase !== undefined && !rights.full) {
    const tables = (await probe.listTables()).filter((t) => t.database === needs.useDatabase).map((t) => t.table);
    if (!rights.seesDatabase(needs.useDatabase, tables)) throw accessDenied(rights.user, { privilege: "SHOW DATABASES", database: needs.useDatabase });
  }
  // The admin holds every grant: only readonly=1 (which refuses table functions) can refuse its SELECTs.
  if (!rights.full || ro.readonly === 1) {
    for (const sql of needs.selects) {
      const text = (await probe.explain(withoutFormat(sql))).split("\n").map(unescapeTsvLine).join("\n");
      const reads = parseQueryTree(text);
      checkRequirements(rights, await readRequirements(reads, probe, rights, filtered), ro);
    }
  }
  if (rights.full || filtered.size === 0) return new Map();
  return new Map([["additional_table_filters", await visibilityFilters(probe, rights, filtered)]]);
}

/** The query without its output FORMAT clause, so EXPLAIN answers in its own text form. */
function withoutFormat(sql: string): string {
  const format = tokenize(sql).findLast((t) => t.depth === 0 && upper(t) === "FORMAT");
  return format === undefined ? sql : sql.slice(0, format.start);
}

async function readRequirements(reads: QueryReads, probe: EngineProbe, rights: EffectiveRights, filtered: Set<Filtered>): Promise<Requirement[]> {
  const out: Requirement[] = [];
  for (const t of reads.tables) {
    if (isSystemVisible(t.database)) {
      if (t.database === "system" && (t.table === "tables" || t.table === "columns" || t.table === "databases")) filtered.add(t.table);
      continue;
    }
    // Temporary tables belong to the session that made them; a server checks no grant on them.
    if (t.database === "" || t.database.startsWith("_temporary_and_external_tables")) continue;
    out.push({ privilege: "SELECT", database: t.database, table: t.table, columns: t.columns });
  }
  for (const f of reads.functions) {
    const source = SOURCE_FUNCTIONS[f.name];
    if (source !== undefined) out.push({ privilege: source });
    if (!READONLY_TABLE_FUNCTIONS.has(f.name)) out.push({ privilege: "CREATE TEMPORARY TABLE" });
    if (f.name === "merge") out.push(...(await mergeSources(f.args, probe, rights)));
  }
  return out;
}

/**
 * merge(['db',] 'regexp') reads every matching table: a server asks SELECT on each one the
 * user can see and skips the others. The engine would read the skipped ones too, so the front
 * asks SELECT on every match (stricter; see docs/design/clickhouse-front.md).
 */
async function mergeSources(args: readonly string[], probe: EngineProbe, rights: EffectiveRights): Promise<Requirement[]> {
  const database = args.length >= 2 ? (args[0] as string) : undefined;
  const pattern = new RegExp(args[args.length - 1] ?? "");
  const all = await probe.listTables();
  return all.filter((t) => (database === undefined || t.database === database) && pattern.test(t.table) && !rights.isGranted("SELECT", t)).map((t) => ({ privilege: "SELECT", database: t.database, table: t.table }));
}

async function visibilityFilters(probe: EngineProbe, rights: EffectiveRights, filtered: ReadonlySet<Filtered>): Promise<string> {
  const all = await probe.listTables();
  const visible = all.filter((t) => rights.seesTable(t.database, t.table));
  const tuples = visible.map((t) => `(${quoteString(t.database)}, ${quoteString(t.table)})`).join(", ");
  const databases = [...new Set(all.map((t) => t.database))].filter((d) => rights.seesDatabase(d, all.filter((t) => t.database === d).map((t) => t.table)));
  const entries: string[] = [];
  for (const f of filtered) {
    let expr: string;
    if (f === "databases") expr = databases.length === 0 ? "0" : `name IN (${databases.map(quoteString).join(", ")})`;
    else {
      const column = f === "tables" ? "name" : "table";
      expr = tuples.length === 0 ? "0" : `(database, ${column}) IN (${tuples})`;
    }
    entries.push(`${quoteString(FILTERED[f])}: ${quoteString(expr)}`);
  }
  return `{${entries.join(", ")}}`;
}
