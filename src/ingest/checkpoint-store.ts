import type { ClickHouseClient } from "@clickhouse/client";
import { checkpointsSql } from "../clickhouse/state-table.js";
import type { CheckpointStore } from "../sources/plugin.js";
import { destinationError } from "./destination-errors.js";

/**
 * The one checkpoint store: the positions a pipe made durable are its rows in
 * clickpipes_state (written after each batch's rows are in), so reading them back is the
 * latest position per stream. Sources that cannot keep positions themselves (Kinesis,
 * object storage, CDC) resume from here.
 */
export class ClickHouseCheckpointStore implements CheckpointStore {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly pipe: string,
  ) {}

  async load(): Promise<ReadonlyMap<string, string>> {
    try {
      const result = await this.client.query({
        query: checkpointsSql(this.database),
        query_params: { pipe: this.pipe },
        format: "JSONEachRow",
      });
      const rows = await result.json<{ stream: string; position: unknown }>();
      return new Map(rows.map((r) => [r.stream, String(r.position)]));
    } catch (err) {
      throw destinationError(err, { checkpoints: this.pipe });
    }
  }

  async select<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    try {
      const result = await this.client.query({ query, query_params: params, format: "JSONEachRow" });
      return await result.json<T>();
    } catch (err) {
      throw destinationError(err, { query: query.slice(0, 120) });
    }
  }
}
