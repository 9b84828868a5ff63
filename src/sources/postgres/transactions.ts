/**
 * Reassembles transactions from pgoutput messages (pure state, no I/O). Changes are held
 * until their transaction commits, so nothing of an aborted transaction (or an aborted
 * subtransaction of a streamed one) is ever inserted, and every checkpoint falls on a
 * transaction boundary. Streamed transactions arrive as interleaved chunks keyed by xid;
 * plain ones between Begin and Commit.
 */
import type { Pgoutput } from "pg-logical-replication";
import type { ReplicationMessage } from "./pgoutput-stream.js";

export type TxItem =
  | { readonly kind: "relation"; readonly relation: Pgoutput.MessageRelation; readonly xid?: number | undefined }
  | {
      readonly kind: "change";
      readonly lsn: string;
      readonly message: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete;
      readonly xid?: number | undefined;
    }
  | { readonly kind: "truncate"; readonly relations: readonly Pgoutput.MessageRelation[]; readonly xid?: number | undefined };

export interface CommittedTx {
  readonly items: readonly TxItem[];
  readonly commitEndLsn: string;
  readonly commitTimeMs: number;
}

export class TransactionAssembler {
  private current: TxItem[] | undefined;
  private readonly streams = new Map<number, TxItem[]>();
  private streamXid: number | undefined;

  /** Transactions held (plain + streamed), for the lag and memory picture. */
  get openTransactions(): number {
    return this.streams.size + (this.current === undefined ? 0 : 1);
  }

  /** Feeds one message; returns the transaction it completed, if any. */
  push(lsn: string, msg: ReplicationMessage): CommittedTx | undefined {
    switch (msg.tag) {
      case "begin":
        this.current = [];
        return undefined;
      case "commit":
        return this.finish(this.current, msg.commitEndLsn ?? lsn, Number(msg.commitTime) / 1000 + 946_684_800_000);
      case "stream_start":
        this.streamXid = msg.xid;
        if (!this.streams.has(msg.xid)) this.streams.set(msg.xid, []);
        return undefined;
      case "stream_stop":
        this.streamXid = undefined;
        return undefined;
      case "stream_abort":
        this.abort(msg.xid, msg.subxid);
        return undefined;
      case "stream_commit": {
        const items = this.streams.get(msg.xid);
        this.streams.delete(msg.xid);
        return this.finish(items ?? [], msg.commitEndLsn, msg.commitTimeMs);
      }
      default:
        this.add(lsn, msg);
        return undefined;
    }
  }

  private target(): TxItem[] | undefined {
    return this.streamXid === undefined ? this.current : this.streams.get(this.streamXid);
  }

  private add(lsn: string, msg: ReplicationMessage): void {
    const items = this.target();
    if (items === undefined) return;
    if (msg.tag === "relation") items.push({ kind: "relation", relation: msg, xid: msg.xid });
    else if (msg.tag === "insert" || msg.tag === "update" || msg.tag === "delete") items.push({ kind: "change", lsn, message: msg, xid: msg.xid });
    else if (msg.tag === "truncate") items.push({ kind: "truncate", relations: msg.relations, xid: msg.xid });
  }

  private abort(xid: number, subxid: number): void {
    if (xid === subxid) {
      this.streams.delete(xid);
      return;
    }
    const items = this.streams.get(xid);
    // Relation messages stay: they describe the schema, not the aborted rows.
    if (items !== undefined) this.streams.set(xid, items.filter((i) => i.kind === "relation" || i.xid !== subxid));
  }

  private finish(items: TxItem[] | undefined, commitEndLsn: string, commitTimeMs: number): CommittedTx | undefined {
    this.current = undefined;
    if (items === undefined) return undefined;
    return { items, commitEndLsn, commitTimeMs };
  }
}
