import { describe, expect, it } from "vitest";
import { SettingsSchema } from "../../api/index.js";
import { fileColumns, fileStructure, insertSelect, querySettings, virtualParams } from "./statement.js";

const target = {
  table: "`db`.`t`",
  columns: [
    { name: "id", type: "UInt64" },
    { name: "user", type: "String" },
    { name: "_path", type: "String" },
    { name: "_time", type: "DateTime" },
  ],
};

describe("statements", () => {
  it("reads the file's columns by their source names and fills virtual columns from parameters", () => {
    const mappings = [{ sourceField: "user_name", destinationField: "user" }];
    expect(fileStructure(target, mappings)).toBe("`id` UInt64, `user_name` String");
    expect(insertSelect(target, mappings, "s3({url:String})")).toBe(
      "INSERT INTO `db`.`t` (`id`, `user`, `_path`, `_time`) SELECT `id`, `user_name`, CAST({v_path:String}, 'String'), CAST(fromUnixTimestamp64Milli({v_time:Int64}, 'UTC'), 'DateTime') FROM s3({url:String})",
    );
    expect(fileColumns(target)).toBe("`id`, `user`");
  });

  it("gives the virtual columns' values", () => {
    expect(virtualParams({ bucket: "b", key: "a/c.json", size: 5, modified: 1000 })).toEqual({ v_path: "b/a/c.json", v_file: "c.json", v_size: "5", v_time: "1000" });
  });

  it("maps the seeds' advanced settings to query settings, with the file's deduplication token", () => {
    const settings = querySettings(SettingsSchema.parse({ maxThreads: 3, minInsertBlockSizeBytes: "1MiB" }), "ns/p:k:etag");
    expect(settings).toMatchObject({
      max_threads: 3,
      max_insert_threads: 1,
      min_insert_block_size_bytes: 1_048_576,
      max_download_threads: 4,
      parallel_distributed_insert_select: 2,
      parallel_view_processing: 0,
      insert_deduplicate: 1,
      insert_deduplication_token: "ns/p:k:etag",
    });
  });
});
