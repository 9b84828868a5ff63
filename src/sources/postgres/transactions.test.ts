import type { Pgoutput } from "pg-logical-replication";
import { describe, expect, it } from "vitest";
import { TransactionAssembler } from "./transactions.js";

const relation = { tag: "relation", relationOid: 1, schema: "public", name: "t", replicaIdentity: "default", columns: [], keyColumns: [] } as Pgoutput.MessageRelation;
const insert = (id: string, xid?: number): Pgoutput.MessageInsert & { xid?: number } => ({ tag: "insert", relation, new: { id }, ...(xid === undefined ? {} : { xid }) });

describe("transaction assembly", () => {
  it("hands a plain transaction over at commit", () => {
    const a = new TransactionAssembler();
    expect(a.push("0/1", { tag: "begin", commitLsn: "0/9", commitTime: 0n, xid: 5 })).toBeUndefined();
    expect(a.push("0/2", insert("1"))).toBeUndefined();
    const tx = a.push("0/9", { tag: "commit", flags: 0, commitLsn: "0/9", commitEndLsn: "0/A", commitTime: 0n });
    expect(tx?.commitEndLsn).toBe("0/A");
    expect(tx?.items.map((i) => i.kind)).toEqual(["change"]);
  });

  it("drops an aborted streamed subtransaction and an aborted streamed transaction", () => {
    const a = new TransactionAssembler();
    a.push("0/1", { tag: "stream_start", xid: 10, first: true });
    a.push("0/2", insert("1", 10));
    a.push("0/3", insert("2", 11));
    a.push("0/4", { tag: "stream_stop" });
    a.push("0/5", { tag: "stream_start", xid: 20, first: true });
    a.push("0/6", insert("3", 20));
    a.push("0/7", { tag: "stream_stop" });
    a.push("0/8", { tag: "stream_abort", xid: 10, subxid: 11 });
    a.push("0/9", { tag: "stream_abort", xid: 20, subxid: 20 });
    const tx = a.push("0/A", { tag: "stream_commit", xid: 10, commitLsn: "0/A", commitEndLsn: "0/B", commitTimeMs: 0 });
    expect(tx?.items.map((i) => (i.kind === "change" ? String((i.message as Pgoutput.MessageInsert).new.id as string) : i.kind))).toEqual(["1"]);
    expect(a.openTransactions).toBe(0);
  });
});
