/**
 * The ClickHouse side of a resync, for any CDC source (bookkeeping in resync-plan.ts): the
 * fresh `<table>_resync` tables made anew (with their error tables and this resync's
 * comment), the check that a recorded resync still has them, and the swap of each into
 * place with EXCHANGE TABLES, the old rows then dropped. A table already swapped (its live
 * table carries this resync's comment) is not swapped back.
 */
import { quoteString, type SqlRunner } from "../../clickhouse/client.js";
import { errorTableSql } from "../../clickhouse/ddl.js";
import { destinationError } from "../../ingest/destination-errors.js";
import type { Logger } from "../../ingest/logger.js";
import { commentSql, renameSql, resyncComment, resyncTable, swapStep } from "./resync-plan.js";
import { dropTableSql, swapTablesSql } from "./target-table.js";

export interface FreshTable {
  /** The live target table. */
  readonly live: string;
  /** CREATE TABLE of `<live>_resync`: the target's DDL from the source as it is now. */
  readonly ddl: string;
}

export class ResyncTables {
  constructor(
    private readonly clickhouse: SqlRunner,
    private readonly database: string,
    private readonly id: string,
    private readonly logger: Logger,
  ) {}

  private async run(query: string, table: string): Promise<void> {
    try {
      await this.clickhouse.command({ query });
    } catch (err) {
      throw destinationError(err, { table, resync: this.id });
    }
  }

  private async comments(names: readonly string[]): Promise<Map<string, string>> {
    const list = names.map(quoteString).join(", ");
    try {
      const result = await this.clickhouse.query({ query: `SELECT name, comment FROM system.tables WHERE database = ${quoteString(this.database)} AND name IN (${list})`, format: "JSONEachRow" });
      return new Map((await result.json<{ name: string; comment: string }>()).map((r) => [r.name, r.comment]));
    } catch (err) {
      throw destinationError(err, { resync: this.id });
    }
  }

  /** Drops what an earlier attempt left, then creates each fresh table, its error table and the comment it carries through the swap. */
  async recreate(tables: readonly FreshTable[]): Promise<void> {
    for (const t of tables) {
      const fresh = resyncTable(t.live);
      await this.run(dropTableSql(this.database, fresh), fresh);
      await this.run(t.ddl, fresh);
      await this.run(errorTableSql(this.database, fresh), fresh);
      await this.run(commentSql(this.database, fresh, this.id), fresh);
    }
  }

  /** Whether every table is still there, fresh or already swapped in (else the resync starts over). */
  async intact(lives: readonly string[]): Promise<boolean> {
    const found = await this.comments(lives.flatMap((l) => [l, resyncTable(l)]));
    return lives.every((l) => found.has(resyncTable(l)) || found.get(l) === resyncComment(this.id));
  }

  /** EXCHANGE TABLES (RENAME when the live table is gone), then the old rows dropped; resumable. */
  async swapIn(lives: readonly string[]): Promise<void> {
    const found = await this.comments(lives.flatMap((l) => [l, resyncTable(l)]));
    for (const live of lives) {
      const fresh = resyncTable(live);
      const comment = found.get(live);
      const step = swapStep(this.id, comment === undefined ? undefined : { exists: true, comment }, found.has(fresh));
      if (step === "exchange") await this.run(swapTablesSql(this.database, live, fresh), live);
      if (step === "rename") await this.run(renameSql(this.database, fresh, live), live);
      await this.run(dropTableSql(this.database, fresh), fresh);
      this.logger.info({ table: live, step, resync: this.id }, "resync: table swapped in");
    }
  }
}
