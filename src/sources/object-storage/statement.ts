/**
 * The statements that move one file into the destination table (Pure): either ClickHouse
 * reads the file itself (`INSERT INTO t (...) SELECT ... FROM s3(...)`), or the consumer
 * streams the object's bytes as they are into `INSERT INTO t (...) SELECT ... FROM
 * input(...) FORMAT f`. Both select the same columns: the destination's columns read from
 * the file by name (or by their fieldMappings source field), and the virtual columns `_path`,
 * `_file`, `_size` and `_time` given as query parameters, so every store fills them alike.
 */
import { type ClickPipeSpec, type FieldMapping, parseByteSize } from "../../api/index.js";
import type { BulkTarget } from "../../ingest/source.js";
import { quoteLiteral } from "./store.js";

export const VIRTUAL_COLUMN_NAMES = ["_path", "_file", "_size", "_time"] as const;
const VIRTUAL = new Set<string>(VIRTUAL_COLUMN_NAMES);

export interface FileFacts {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly modified: number;
}

function ident(name: string): string {
  return "`" + name.replaceAll("\\", "\\\\").replaceAll("`", "\\`") + "`";
}

function sourceNames(mappings: readonly FieldMapping[] | undefined): Map<string, string> {
  return new Map((mappings ?? []).map((m) => [m.destinationField, m.sourceField]));
}

/** The file columns to read: destination columns that are not virtual, by their source names. */
export function fileStructure(target: BulkTarget, mappings: readonly FieldMapping[] | undefined): string {
  const names = sourceNames(mappings);
  return target.columns
    .filter((c) => !VIRTUAL.has(c.name))
    .map((c) => `${ident(names.get(c.name) ?? c.name)} ${c.type}`)
    .join(", ");
}

function virtualValue(name: string, type: string): string {
  const t = quoteLiteral(type);
  if (name === "_time") return `CAST(fromUnixTimestamp64Milli({v_time:Int64}, 'UTC'), ${t})`;
  if (name === "_size") return `CAST({v_size:UInt64}, ${t})`;
  return `CAST({v_${name.slice(1)}:String}, ${t})`;
}

/** `INSERT INTO t (cols) SELECT exprs FROM <from>`: file columns by name, virtual columns from parameters. */
export function insertSelect(target: BulkTarget, mappings: ClickPipeSpec["fieldMappings"], from: string): string {
  const names = sourceNames(mappings);
  const cols = target.columns.map((c) => ident(c.name)).join(", ");
  const exprs = target.columns.map((c) => (VIRTUAL.has(c.name) ? virtualValue(c.name, c.type) : ident(names.get(c.name) ?? c.name))).join(", ");
  return `INSERT INTO ${target.table} (${cols}) SELECT ${exprs} FROM ${from}`;
}

/**
 * The destination's columns that come from the file, for a streamed `INSERT ... FORMAT`:
 * virtual columns are left to their defaults there (ClickHouse's input() would fill them
 * on a server, but the stack's engine front does not pass data to it, so it is not used).
 */
export function fileColumns(target: BulkTarget): string {
  return target.columns
    .filter((c) => !VIRTUAL.has(c.name))
    .map((c) => ident(c.name))
    .join(", ");
}

/** Values of the virtual columns' parameters. */
export function virtualParams(file: FileFacts): Record<string, string> {
  return {
    v_path: `${file.bucket}/${file.key}`,
    v_file: file.key.slice(file.key.lastIndexOf("/") + 1),
    v_size: String(file.size),
    v_time: String(file.modified),
  };
}

/** The seeds' advanced settings as the query's settings, plus how files are read and deduplicated. */
export function querySettings(settings: ClickPipeSpec["settings"], dedupToken: string): Record<string, string | number> {
  return {
    ...(settings.maxThreads === undefined ? {} : { max_threads: settings.maxThreads }),
    max_insert_threads: settings.maxInsertThreads,
    min_insert_block_size_bytes: parseByteSize(settings.minInsertBlockSizeBytes),
    max_download_threads: settings.maxDownloadThreads,
    parallel_distributed_insert_select: settings.parallelDistributedInsertSelect,
    parallel_view_processing: settings.parallelViewProcessing ? 1 : 0,
    // Each file once: a retried insert of the same file version is deduplicated block by block.
    insert_deduplicate: 1,
    insert_deduplication_token: dedupToken,
    // As the record path reads JSON: unknown fields ignored, ISO 8601 times, null as the default.
    input_format_skip_unknown_fields: 1,
    date_time_input_format: "best_effort",
    input_format_null_as_default: 1,
    input_format_csv_detect_header: 1,
    input_format_tsv_detect_header: 1,
    input_format_allow_errors_num: 0,
  };
}
