/**
 * A committed transaction → records for the sink, in WAL order: changes of mapped tables
 * become change records (version = the change's LSN), a Relation message whose columns
 * differ from what the target has becomes ALTERs applied before the rows that carry the new
 * shape, unchanged TOASTed values are filled from the row's previous version. Every record
 * of the transaction is positioned at the previous commit, and the transaction's own commit
 * LSN is reported as progress after its last record, so a checkpoint never splits it.
 */
import type { Pgoutput } from "pg-logical-replication";
import type { SqlRunner } from "../../clickhouse/client.js";
import type { RawRecord } from "../../ingest/source.js";
import { alterSql, planSchemaChange } from "../cdc/schema-changes.js";
import { pgColumn, type PgColumn } from "./catalog.js";
import { parseLsn } from "./lsn.js";
import { convertTuple, toRecord, type TableState, type Tuple } from "./rows.js";
import { currentValues, keyOf, previousValues, type ToastGap } from "./toast.js";
import type { CommittedTx, TxItem } from "./transactions.js";
import type { PgType } from "./types.js";

export interface ApplyDeps {
  /** Mapped tables by `schema.table`; updated in place when their columns change. */
  readonly tables: Map<string, TableState>;
  readonly stream: string;
  readonly database: string;
  readonly clickhouse: SqlRunner | undefined;
  resolveType(oid: number, typmod: number): Promise<PgType>;
  /** Reads from the source (for TOAST gaps ClickHouse cannot fill). */
  readonly source: Parameters<typeof currentValues>[0];
  deliver(records: readonly RawRecord[]): Promise<void>;
  progress(position: string): Promise<void>;
  /** Insert and commit what the sink holds. */
  flush(): Promise<void>;
  /** The target's columns changed: the sink re-reads them. */
  tablesChanged(tables: readonly string[]): Promise<void>;
  /** Keeps the table's source shape in the checkpoint store, so a restart compares Relation messages with what the target has. */
  saveSchema(state: TableState): Promise<void>;
  /** A condition-worthy problem (schema change not applied, TOAST value not found, TRUNCATE). */
  warn(message: string): void;
}

type ChangeItem = Extract<TxItem, { kind: "change" }>;

interface Pending {
  readonly records: RawRecord[];
  readonly gaps: { index: number; gap: ToastGap; state: TableState; version: bigint; keyText: string[] }[];
  /** The latest values of each row changed in this transaction, by table and key. */
  readonly latest: Map<string, Record<string, unknown>>;
  /** Rows this transaction deleted. */
  readonly deleted: Set<string>;
}

/** Rows whose latest handed-over values are kept, so most TOAST gaps fill without a round trip. */
const RECENT_ROWS = 20_000;

function sameShape(a: readonly PgColumn[], b: readonly PgColumn[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]?.name && c.sourceType === b[i]?.sourceType);
}

export class TxApplier {
  /** Position of every record of the transaction being applied: the last commit fully handed over. */
  private position: string;
  private readonly typeCache = new Map<string, PgType>();
  /** The latest values handed over per row (table:key), oldest first, bounded. */
  private readonly recent = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly deps: ApplyDeps,
    startLsn: string,
  ) {
    this.position = startLsn;
  }

  async apply(tx: CommittedTx): Promise<void> {
    let pending = this.fresh();
    for (const item of tx.items) {
      if (item.kind === "relation") {
        const changed = await this.columnsAfter(item.relation);
        if (changed === undefined) continue;
        await this.hand(pending);
        pending = this.fresh();
        await this.follow(changed.state, changed.columns);
      } else if (item.kind === "change") {
        this.addChange(pending, item, tx.commitTimeMs);
      } else {
        const names = item.relations.map((r) => `${r.schema}.${r.name}`).filter((n) => this.deps.tables.has(n));
        if (names.length > 0) this.deps.warn(`TRUNCATE of ${names.join(", ")} is not replicated: the ClickHouse tables keep their rows; resync the pipe to reload them`);
      }
    }
    await this.hand(pending);
    this.position = tx.commitEndLsn;
    await this.deps.progress(tx.commitEndLsn);
  }

  private fresh(): Pending {
    return { records: [], gaps: [], latest: new Map(), deleted: new Set() };
  }

  private addChange(pending: Pending, item: ChangeItem, commitTimeMs: number): void {
    const msg = item.message;
    const state = this.deps.tables.get(`${msg.relation.schema}.${msg.relation.name}`);
    if (state === undefined) return;
    const version = parseLsn(item.lsn);
    const place = { stream: this.deps.stream, position: this.position, version, timestamp: commitTimeMs };
    if (msg.tag === "delete") {
      const tuple = (msg.old ?? msg.key ?? {}) as Tuple;
      const converted = convertTuple(state, tuple);
      const key = `${state.mapping.targetTable}:${keyOf(state.orderBy, converted.values)}`;
      pending.latest.delete(key);
      pending.deleted.add(key);
      pending.records.push(toRecord(state, "delete", converted, tuple, place));
      return;
    }
    const tuple = msg.new as Tuple;
    const converted = convertTuple(state, tuple);
    const oldKey = msg.tag === "update" ? this.deleteOldKey(state, msg, converted.values, place) : undefined;
    if (oldKey !== undefined) pending.records.push(oldKey);
    const key = `${state.mapping.targetTable}:${keyOf(state.orderBy, converted.values)}`;
    if (converted.missing.length > 0 && converted.error === undefined) {
      const earlier = pending.latest.get(key) ?? (pending.deleted.has(key) ? undefined : this.recent.get(key));
      for (const c of converted.missing) if (earlier !== undefined && c in earlier) converted.values[c] = earlier[c];
      const still = converted.missing.filter((c) => !(c in converted.values));
      if (still.length > 0) {
        const gap = { table: state.mapping.targetTable, orderBy: state.orderBy, values: converted.values, missing: still };
        pending.gaps.push({ index: pending.records.length, gap, state, version, keyText: state.orderBy.map((k) => tuple[k] ?? "") });
      }
    }
    pending.latest.set(key, converted.values);
    pending.deleted.delete(key);
    pending.records.push(toRecord(state, msg.tag, converted, tuple, place));
  }

  /** An UPDATE that changed the key: the old key's row is deleted. */
  private deleteOldKey(state: TableState, msg: Pgoutput.MessageUpdate, values: Record<string, unknown>, place: Parameters<typeof toRecord>[4]): RawRecord | undefined {
    const old = (msg.key ?? msg.old) as Tuple | null;
    if (old === null) return undefined;
    const oldConverted = convertTuple(state, old);
    if (keyOf(state.orderBy, oldConverted.values) === keyOf(state.orderBy, values)) return undefined;
    return toRecord(state, "delete", oldConverted, old, place);
  }

  /** Fills TOAST gaps from ClickHouse, then hands the records to the sink. */
  private async hand(pending: Pending): Promise<void> {
    if (pending.gaps.length > 0) await this.fillGaps(pending);
    this.remember(pending);
    for (let i = 0; i < pending.records.length; i += 5_000) await this.deps.deliver(pending.records.slice(i, i + 5_000));
  }

  private remember(pending: Pending): void {
    for (const key of pending.deleted) this.recent.delete(key);
    for (const [key, values] of pending.latest) {
      this.recent.delete(key);
      this.recent.set(key, values);
    }
    for (const key of this.recent.keys()) {
      if (this.recent.size <= RECENT_ROWS) break;
      this.recent.delete(key);
    }
  }

  private async fillGaps(pending: Pending): Promise<void> {
    const client = this.deps.clickhouse;
    await this.deps.flush();
    const byTable = new Map<string, Pending["gaps"]>();
    for (const g of pending.gaps) byTable.set(g.gap.table, [...(byTable.get(g.gap.table) ?? []), g]);
    for (const [table, gaps] of byTable) {
      const found = client === undefined ? new Map<string, Record<string, unknown>>() : await previousValues(client, this.deps.database, gaps.map((g) => g.gap));
      const notInTarget = gaps.filter((g) => !found.has(keyOf(g.gap.orderBy, g.gap.values)));
      const fromSource = notInTarget.length === 0 ? new Map<string, Record<string, string | null>>() : await this.sourceValues(notInTarget);
      let unresolved = 0;
      for (const g of gaps) {
        const previous = found.get(keyOf(g.gap.orderBy, g.gap.values)) ?? this.converted(g, fromSource.get(JSON.stringify(g.keyText)));
        if (previous === undefined) unresolved++;
        for (const c of g.gap.missing) if (previous !== undefined && c in previous) g.gap.values[c] = previous[c];
        const place = { stream: this.deps.stream, position: this.position, version: g.version, timestamp: pending.records[g.index]?.timestamp ?? Date.now() };
        pending.records[g.index] = toRecord(g.state, "update", { values: g.gap.values, missing: [] }, {}, place);
      }
      if (unresolved > 0) {
        this.deps.warn(`${unresolved} update(s) of ${table} did not carry an unchanged TOASTed value and the row is gone at the source: run ALTER TABLE ... REPLICA IDENTITY FULL on the source table`);
      }
    }
  }

  private async sourceValues(gaps: Pending["gaps"]): Promise<Map<string, Record<string, string | null>>> {
    const first = gaps[0] as Pending["gaps"][number];
    const m = first.state.mapping;
    const columns = [...new Set(gaps.flatMap((g) => g.gap.missing))];
    return currentValues(this.deps.source, { schema: m.sourceSchemaName, name: m.sourceTable, orderBy: first.state.orderBy, columns }, gaps.map((g) => g.keyText));
  }

  /** Source text values of a gap's missing columns, converted (a value that does not fit stays missing). */
  private converted(g: Pending["gaps"][number], row: Record<string, string | null> | undefined): Record<string, unknown> | undefined {
    if (row === undefined) return undefined;
    const tuple = Object.fromEntries(g.gap.missing.map((c) => [c, row[c] ?? null]));
    const columns = g.state.columns.filter((c) => g.gap.missing.includes(c.name));
    return convertTuple({ ...g.state, columns }, tuple).values;
  }

  /** The relation's replicated columns when they differ from what the target has; undefined otherwise. */
  private async columnsAfter(relation: Pgoutput.MessageRelation): Promise<{ state: TableState; columns: PgColumn[] } | undefined> {
    const state = this.deps.tables.get(`${relation.schema}.${relation.name}`);
    if (state === undefined) return undefined;
    const excluded = new Set(state.mapping.excludedColumns ?? []);
    const known = new Map(state.columns.map((c) => [c.name, c]));
    const columns: PgColumn[] = [];
    for (const c of relation.columns.filter((col) => !excluded.has(col.name))) {
      const type = await this.typeOf(c.typeOid, c.typeMod);
      const before = known.get(c.name);
      columns.push(before !== undefined && before.sourceType === type.name ? before : pgColumn(c.name, type, true));
    }
    return sameShape(state.columns, columns) ? undefined : { state, columns };
  }

  private async typeOf(oid: number, typmod: number): Promise<PgType> {
    const key = `${oid}:${typmod}`;
    let type = this.typeCache.get(key);
    if (type === undefined) {
      type = await this.deps.resolveType(oid, typmod);
      this.typeCache.set(key, type);
    }
    return type;
  }

  /** Applies a schema change to the target before any row of the new shape is handed over. */
  private async follow(state: TableState, after: PgColumn[]): Promise<void> {
    const table = state.mapping.targetTable;
    const plan = planSchemaChange(table, state.columns, after, state.orderBy);

    for (const problem of plan.problems) this.deps.warn(problem);
    await this.deps.flush();
    const client = this.deps.clickhouse;
    if (client !== undefined) for (const alter of plan.alters) await client.command({ query: alterSql(this.deps.database, table, alter) });
    // A type change is not applied: the column keeps its old mapping, so values still fit the target's type or are record errors.
    const before = new Map(state.columns.map((c) => [c.name, c]));
    const columns = after.map((c) => {
      const old = before.get(c.name);
      return old !== undefined && old.sourceType !== c.sourceType ? old : c;
    });
    const next = { ...state, columns };
    this.deps.tables.set(`${state.mapping.sourceSchemaName}.${state.mapping.sourceTable}`, next);
    await this.deps.tablesChanged([table]);
    await this.deps.saveSchema(next);
  }
}
