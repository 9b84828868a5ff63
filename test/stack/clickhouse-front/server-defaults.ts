/**
 * Settings whose default in chDB 26.7 (clickhouse-local's defaults plus chDB's own changes)
 * differs from what a 26.x clickhouse-server declares in src/Core/Settings.cpp. The front
 * applies these to every engine connection before its first query so that a lenient local
 * default never hides a bug a real server would expose.
 *
 * Found by dumping chDB's `system.settings` (value, default, changed) and comparing with the
 * server's declarations; settings chDB leaves at the server default are not listed.
 */
export interface DefaultDifference {
  readonly name: string;
  /** What a 26.x server declares. */
  readonly server: string;
  /** What chDB 26.7 starts with. */
  readonly chdb: string;
  /** Why the difference matters for tests. */
  readonly why: string;
}

export const SERVER_DEFAULT_DIFFERENCES: readonly DefaultDifference[] = [
  { name: "async_insert", server: "0", chdb: "1", why: "inserts are synchronous on a server unless the client asks" },
  {
    name: "date_time_input_format",
    server: "basic",
    chdb: "best_effort",
    why: "a server rejects an ISO 8601 string with a zone or 'T' for DateTime",
  },
  {
    name: "output_format_json_quote_64bit_integers",
    server: "1",
    chdb: "0",
    why: "a server quotes (U)Int64 in JSON so JS readers do not lose precision",
  },
  { name: "mutations_sync", server: "0", chdb: "1", why: "ALTER ... UPDATE/DELETE are asynchronous on a server" },
  { name: "precise_float_parsing", server: "0", chdb: "1", why: "float parsing matches the server's fast path" },
  { name: "allow_introspection_functions", server: "0", chdb: "1", why: "clickhouse-local override" },
  { name: "implicit_select", server: "0", chdb: "1", why: "clickhouse-local accepts `1 + 1` as a query; a server does not" },
  { name: "storage_file_read_method", server: "pread", chdb: "mmap", why: "clickhouse-local override" },
  { name: "output_format_arrow_use_native_writer", server: "1", chdb: "0", why: "chDB override" },
];

/** name -> server default, for the settings the front must reset. */
export function serverDefaults(): Map<string, string> {
  return new Map(SERVER_DEFAULT_DIFFERENCES.map((d) => [d.name, d.server]));
}
