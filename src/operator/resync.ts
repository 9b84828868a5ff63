/**
 * The resync annotation, the Strimzi way: a user sets `clickpipes.io/resync` (any value) on
 * a ClickPipe; the operator acknowledges it on `status.resync` (a new id, phase Resyncing,
 * the tables), puts the id on the consumers' copy of the pipe (their ConfigMap, so they
 * roll and reload every table: src/sources/cdc/resync-plan.ts), and removes the annotation
 * once the status is written, so setting it again asks for a new resync. The consumers
 * record `<id>:done` in clickpipes_state when every table is swapped in; the status then
 * says Completed.
 *
 * Restarts: the status is written before the annotation is removed, and an annotation
 * found while a resync is Resyncing joins it; a crash before the status write leaves the
 * annotation, so the next reconcile acknowledges it (with a new id the consumers start
 * over with, safely: a fresh resync drops what a half-done one left).
 */
import type { Logger } from "pino";
import { RESYNC_ANNOTATION, RESYNC_ID_ANNOTATION, type ClickPipe, type ClickPipeStatus } from "../api/index.js";
import { resyncCompleted, RESYNC_STREAM } from "../ingest/snapshot-streams.js";
import { sourcePlugin } from "../sources/registry.js";
import type { EventRecorder } from "./finalizer.js";
import { FIELD_MANAGER, paths, type ApiRequester } from "./kube/apply.js";
import { PATCH_MERGE, type KubeObject } from "./kube/client.js";

export type ResyncStatus = NonNullable<ClickPipeStatus["resync"]>;

export interface ResyncDecision {
  /** status.resync to write (the previous one when nothing changed). */
  readonly status: ResyncStatus | undefined;
  /** The annotation is acknowledged (or joined a running resync): remove it once the status is written. */
  readonly acknowledged: boolean;
  /** An Event worth recording: the resync started, was refused, or completed. */
  readonly event?: { readonly type: "Normal" | "Warning"; readonly reason: string; readonly message: string };
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** A new resync id: the acknowledgement time, unique per pipe (one acknowledgement per reconcile). */
export function newResyncId(now: Date): string {
  return `r${now.getTime().toString(36)}`;
}

export interface ResyncInput {
  readonly pipe: ClickPipe;
  /** The `resync` stream's latest position for this pipe in clickpipes_state, if any. */
  readonly reported: string | undefined;
  readonly now: Date;
}

/** Pure: what the annotation and the consumers' report make of status.resync. */
export function decideResync(input: ResyncInput): ResyncDecision {
  const { pipe, now } = input;
  const prev = pipe.status?.resync;
  if (pipe.metadata.annotations?.[RESYNC_ANNOTATION] !== undefined) {
    // A request while one runs joins it: that one reloads everything anyway.
    if (prev?.phase === "Resyncing") return { status: prev, acknowledged: true };
    const plugin = sourcePlugin(pipe.spec);
    const base = { id: newResyncId(now), requestedAt: iso(now) };
    if (plugin?.capabilities(pipe.spec).resync !== true) {
      const message = `resync is not implemented for this source (${plugin?.kind ?? "unknown"}): it is for Postgres and MySQL pipes in replicationMode cdc or cdc_only`;
      return { status: { ...base, phase: "Failed", message }, acknowledged: true, event: { type: "Warning", reason: "ResyncRefused", message } };
    }
    if (pipe.spec.destination.permissions === "destinationOnly") {
      const message = "resync needs permissions: full (or a customRole with CREATE TABLE, DROP TABLE and ALTER on the database): the consumer creates, swaps and drops tables";
      return { status: { ...base, phase: "Failed", message }, acknowledged: true, event: { type: "Warning", reason: "ResyncRefused", message } };
    }
    const tables = plugin.tables(pipe.spec);
    const message = `resync ${base.id}: reloading ${tables.join(", ")} into new tables, swapped in when complete`;
    return { status: { ...base, phase: "Resyncing", tables }, acknowledged: true, event: { type: "Normal", reason: "Resyncing", message } };
  }
  if (prev?.phase === "Resyncing" && resyncCompleted(prev.id, input.reported)) {
    const message = `resync ${prev.id} completed: every table reloaded and swapped in`;
    return { status: { ...prev, phase: "Completed", completedAt: iso(now) }, acknowledged: false, event: { type: "Normal", reason: "ResyncCompleted", message } };
  }
  return { status: prev, acknowledged: false };
}

/** The resync id the consumers must honour (a refused request changes nothing for them). */
export function consumerResyncId(pipe: Pick<ClickPipe, "status">): string | undefined {
  const r = pipe.status?.resync;
  return r !== undefined && r.phase !== "Failed" ? r.id : undefined;
}

/** Metadata the consumers' copy of the pipe carries for the resync, if any. */
export function consumerResyncAnnotations(pipe: Pick<ClickPipe, "status">): { annotations?: Record<string, string> } {
  const id = consumerResyncId(pipe);
  return id === undefined ? {} : { annotations: { [RESYNC_ID_ANNOTATION]: id } };
}

/**
 * status.snapshot as users read it: the fresh `<table>_resync` copies show their load's
 * progress while a resync runs, and are left out once it is over (the tables they became
 * are listed under their own names).
 */
export function snapshotView(snapshot: ClickPipeStatus["snapshot"], resync: ResyncStatus | undefined): ClickPipeStatus["snapshot"] {
  if (snapshot?.tables === undefined || resync?.phase === "Resyncing") return snapshot;
  const tables = snapshot.tables.filter((t) => !(t.table.endsWith("_resync") && snapshot.tables?.some((o) => `${o.table}_resync` === t.table)));
  return { ...snapshot, tables };
}

/** The latest `resync` position per pipe, from the snapshot query's rows (snapshot-progress.ts reads the `resync` stream with them). */
export function resyncsOf(rows: readonly Record<string, unknown>[]): Map<string, string> {
  return new Map(rows.filter((r) => r.stream === RESYNC_STREAM).map((r) => [String(r.pipe), String(r.stream_position)]));
}

/** After the status is written: the Event, and the acknowledged annotation removed (a merge patch of metadata only; spec untouched). */
export async function finishResync(deps: { api: ApiRequester; events: EventRecorder; remember: (obj: KubeObject) => void }, obj: KubeObject, decision: ResyncDecision, log: Logger): Promise<void> {
  if (decision.event !== undefined) {
    log.info({ resync: decision.status?.id, phase: decision.status?.phase }, decision.event.message);
    await deps.events.record(obj, decision.event.type, decision.event.reason, decision.event.message);
  }
  if (!decision.acknowledged) return;
  const patched = await deps.api.request<KubeObject>("PATCH", paths.clickPipe(obj.metadata.namespace ?? "default", obj.metadata.name), {
    query: { fieldManager: FIELD_MANAGER },
    body: { metadata: { annotations: { [RESYNC_ANNOTATION]: null } } },
    contentType: PATCH_MERGE,
  });
  deps.remember(patched);
}
