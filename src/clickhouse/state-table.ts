/**
 * `clickpipes_state` (docs/design/contracts.md): progress counters, lag and the checkpoint
 * store of every pipe writing into a database, one row per committed batch and stream, as
 * deltas that the AggregatingMergeTree folds per (pipe, source_position). Pure builders:
 * the table, its in-place migration, and the two reads (totals, checkpoints).
 */
import { quoteIdent } from "./client.js";
import type { ActualColumn } from "./schema-check.js";

export const STATE_TABLE = "clickpipes_state";

interface StateColumn {
  readonly name: string;
  readonly type: string;
}

/** The sorting key: never altered (ClickHouse refuses to change a key column's type). */
const KEY_COLUMNS: readonly StateColumn[] = [
  { name: "pipe", type: "String" },
  { name: "source_position", type: "String" },
];

/**
 * The value columns, as ClickHouse prints their types in system.columns. `position` is the
 * stream's opaque position (Kafka offset, Kinesis sequence number, LSN, file + line): a
 * String kept by anyLast, since the last committed position is the one to resume from and
 * `max` of strings would compare "9" above "10". Every row carries its stream's position,
 * so a merge keeps the newest one.
 */
const VALUE_COLUMNS: readonly StateColumn[] = [
  { name: "rows", type: "SimpleAggregateFunction(sum, UInt64)" },
  { name: "bytes", type: "SimpleAggregateFunction(sum, UInt64)" },
  { name: "record_errors", type: "SimpleAggregateFunction(sum, UInt64)" },
  { name: "batches", type: "SimpleAggregateFunction(sum, UInt64)" },
  { name: "position", type: "SimpleAggregateFunction(anyLast, String)" },
  { name: "lag", type: "SimpleAggregateFunction(anyLast, Int64)" },
  { name: "last_insert_time", type: "SimpleAggregateFunction(max, DateTime64(3, 'UTC'))" },
];

function stateTable(db: string): string {
  return `${quoteIdent(db)}.${quoteIdent(STATE_TABLE)}`;
}

/** The state table as it is today; existing tables are brought to it by `stateMigrationSql`. */
export function stateTableSql(db: string): string {
  const columns = [...KEY_COLUMNS, ...VALUE_COLUMNS].map((c) => `  ${c.name} ${c.type}`).join(",\n");
  return `CREATE TABLE IF NOT EXISTS ${stateTable(db)}
(
${columns}
)
ENGINE = AggregatingMergeTree
ORDER BY (pipe, source_position)`;
}

/** Types compared as ClickHouse may space them: `DateTime64(3,'UTC')` is `DateTime64(3, 'UTC')`. */
function sameSpelling(a: string, b: string): boolean {
  return a.replace(/\s+/g, "") === b.replace(/\s+/g, "");
}

/**
 * The ALTERs that bring an existing state table (its columns from system.columns) to
 * today's shape; empty when it is current. Earlier releases kept `position` as
 * `SimpleAggregateFunction(max, Int64)`: MODIFY COLUMN rewrites it as a String in place
 * (each Int64 cast to its decimal text, which is the Kafka source's position), keeping
 * every pipe's counters and lag. Columns are only added or retyped, never dropped, so a
 * consumer of the previous release still inserting its rows keeps working.
 */
export function stateMigrationSql(db: string, actual: readonly ActualColumn[]): string[] {
  const byName = new Map(actual.map((c) => [c.name, c.type]));
  return VALUE_COLUMNS.flatMap((want) => {
    const have = byName.get(want.name);
    if (have === undefined) return [`ALTER TABLE ${stateTable(db)} ADD COLUMN IF NOT EXISTS ${want.name} ${want.type}`];
    if (sameSpelling(have, want.type)) return [];
    return [`ALTER TABLE ${stateTable(db)} MODIFY COLUMN ${want.name} ${want.type}`];
  });
}

/** Totals per pipe (contracts.md); exact whether or not parts have merged, since sum of sums is the sum. */
export function stateTotalsSql(db: string): string {
  return `SELECT pipe, sum(rows) AS total_rows, sum(bytes) AS total_bytes, sum(record_errors) AS total_record_errors, max(last_insert_time) AS latest_insert_time
FROM ${stateTable(db)}
GROUP BY pipe`;
}

/**
 * The checkpoint store's read: the latest committed position of each stream of one pipe,
 * with the query parameter `{pipe:String}` (`<namespace>/<name>`). Rows are `{stream, position}`.
 * Right before and after merges: unmerged rows each carry their own insert time, and a
 * merged row keeps the max insert time with the anyLast position, which is that of the row
 * merged last, i.e. the newest.
 */
export function checkpointsSql(db: string): string {
  return `SELECT source_position AS stream, argMax(position, last_insert_time) AS position
FROM ${stateTable(db)}
WHERE pipe = {pipe:String}
GROUP BY source_position`;
}
