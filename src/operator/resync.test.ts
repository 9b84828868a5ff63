import { describe, expect, it } from "vitest";
import type { ClickPipe } from "../api/index.js";
import { resolvedPipeConfig } from "./desired.js";
import { consumerResyncId, decideResync, newResyncId, resyncsOf, snapshotView } from "./resync.js";
import { samplePipe } from "./test-fixtures.js";

const now = new Date("2026-11-30T12:00:00.000Z");
const postgres = {
  postgres: {
    host: "db",
    database: "shop",
    credentialsSecretRef: { name: "pg" },
    tableMappings: [
      { sourceSchemaName: "public", sourceTable: "orders", targetTable: "orders" },
      { sourceSchemaName: "public", sourceTable: "items", targetTable: "items" },
    ],
  },
};

function pgPipe(annotations?: Record<string, string>, status?: Record<string, unknown>): ClickPipe {
  const base = samplePipe({ spec: { source: postgres, destination: { clickhouse: { url: "http://127.0.0.1:8123", credentialsSecretRef: { name: "ch-admin" } }, database: "db", permissions: "full" }, scaling: { replicas: 1 } }, ...(status ? { status } : {}) });
  return { ...base, metadata: { ...base.metadata, ...(annotations ? { annotations } : {}) } };
}

describe("the resync annotation", () => {
  it("is acknowledged with a new id, the tables and phase Resyncing", () => {
    const d = decideResync({ pipe: pgPipe({ "clickpipes.io/resync": "true" }), reported: undefined, now });
    expect(d.acknowledged).toBe(true);
    expect(d.status).toEqual({ id: newResyncId(now), requestedAt: "2026-11-30T12:00:00Z", phase: "Resyncing", tables: ["orders", "items"] });
    expect(d.event?.reason).toBe("Resyncing");
  });

  it("joins a resync still running instead of starting another", () => {
    const running = { id: "r1", requestedAt: "2026-11-30T11:00:00Z", phase: "Resyncing", tables: ["orders"] };
    const d = decideResync({ pipe: pgPipe({ "clickpipes.io/resync": "again" }, { resync: running }), reported: "r1:loading", now });
    expect(d).toEqual({ status: running, acknowledged: true });
  });

  it("turns Completed once the consumers report every table swapped in, and starts anew when asked again", () => {
    const running = { id: "r1", requestedAt: "2026-11-30T11:00:00Z", phase: "Resyncing", tables: ["orders"] };
    expect(decideResync({ pipe: pgPipe(undefined, { resync: running }), reported: "r1:loading", now }).status).toEqual(running);
    const done = decideResync({ pipe: pgPipe(undefined, { resync: running }), reported: "r1:done", now });
    expect(done.status).toEqual({ ...running, phase: "Completed", completedAt: "2026-11-30T12:00:00Z" });
    expect(done.acknowledged).toBe(false);
    const again = decideResync({ pipe: pgPipe({ "clickpipes.io/resync": "true" }, { resync: done.status }), reported: "r1:done", now });
    expect(again.status?.phase).toBe("Resyncing");
    expect(again.status?.id).not.toBe("r1");
  });

  it("is refused on status for a source without resync, and the consumers are not told", () => {
    const kafka = samplePipe();
    const d = decideResync({ pipe: { ...kafka, metadata: { ...kafka.metadata, annotations: { "clickpipes.io/resync": "1" } } }, reported: undefined, now });
    expect(d.status?.phase).toBe("Failed");
    expect(d.status?.message).toMatch(/not implemented for this source \(kafka\)/);
    expect(consumerResyncId({ status: { resync: d.status } })).toBeUndefined();
  });

  it("is refused on a pipe whose user may not create and drop tables", () => {
    const pipe = pgPipe({ "clickpipes.io/resync": "true" });
    const narrow = { ...pipe, spec: { ...pipe.spec, destination: { ...pipe.spec.destination, permissions: "destinationOnly" as const } } };
    expect(decideResync({ pipe: narrow, reported: undefined, now }).status).toMatchObject({ phase: "Failed", message: expect.stringMatching(/permissions: full/) as string });
  });

  it("puts the id on the consumers' copy of the pipe", () => {
    const pipe = pgPipe(undefined, { resync: { id: "r9", phase: "Resyncing" } });
    expect((resolvedPipeConfig(pipe).metadata as { annotations?: Record<string, string> }).annotations).toEqual({ "clickpipes.io/resync-id": "r9" });
    expect((resolvedPipeConfig(pgPipe()).metadata as { annotations?: unknown }).annotations).toBeUndefined();
  });

  it("reads the consumers' report from the snapshot query's rows", () => {
    const rows = [
      { pipe: "ns/a", stream: "snapshot/t", stream_position: "done" },
      { pipe: "ns/a", stream: "resync", stream_position: "r1:done" },
    ];
    expect(resyncsOf(rows)).toEqual(new Map([["ns/a", "r1:done"]]));
  });

  it("shows the fresh copies' load on status.snapshot only while the resync runs", () => {
    const t = (table: string): { table: string; partitionsDone: number; partitionsTotal: number; rows: number; completed: boolean } => ({ table, partitionsDone: 1, partitionsTotal: 1, rows: 5, completed: true });
    const snapshot = { tables: [t("orders"), t("orders_resync"), t("x_resync")] };
    expect(snapshotView(snapshot, { id: "r1", phase: "Resyncing" })).toEqual(snapshot);
    expect(snapshotView(snapshot, { id: "r1", phase: "Completed" })?.tables?.map((x) => x.table)).toEqual(["orders", "x_resync"]);
  });
});
