/**
 * pgoutput with in-progress transaction streaming (protocol version 2, `streaming 'on'`,
 * Postgres 14+). pg-logical-replication's pgoutput parser speaks protocol 1 messages; this
 * adds what version 2 adds: Stream Start/Stop/Commit/Abort, and the transaction id that
 * every data message inside a stream carries after its tag, which is removed before the
 * library parses the rest. On older servers it asks for protocol 1 and passes through.
 * https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
 */
import type pg from "pg";
import { type LogicalReplicationService, PgoutputPlugin, type Pgoutput } from "pg-logical-replication";
import { readLsn } from "./lsn.js";

export type StreamControl =
  | { readonly tag: "stream_start"; readonly xid: number; readonly first: boolean }
  | { readonly tag: "stream_stop" }
  | { readonly tag: "stream_commit"; readonly xid: number; readonly commitLsn: string; readonly commitEndLsn: string; readonly commitTimeMs: number }
  | { readonly tag: "stream_abort"; readonly xid: number; readonly subxid: number };

/** A decoded message; data messages inside a stream carry the (sub)transaction id they belong to. */
export type ReplicationMessage = StreamControl | (Pgoutput.Message & { readonly xid?: number | undefined });

/** Tags of the messages that carry a transaction id when sent inside a stream. */
const XID_TAGS = new Set(["R", "Y", "I", "U", "D", "T", "M"].map((c) => c.charCodeAt(0)));

/** Microseconds since 2000-01-01 → ms since the epoch. */
export function pgTimeToMs(micros: bigint): number {
  return Number(micros / 1000n) + 946_684_800_000;
}

const keepText = (raw: unknown): unknown => raw;

type PluginShape = Parameters<LogicalReplicationService["subscribe"]>[0];

export class StreamingPgoutput implements PluginShape {
  private readonly inner: PgoutputPlugin;
  private inStream = false;

  constructor(
    readonly options: { readonly protoVersion: 1 | 2; readonly publicationNames: readonly string[] },
  ) {
    this.inner = new PgoutputPlugin({ protoVersion: options.protoVersion, publicationNames: [...options.publicationNames] });
  }

  get name(): string {
    return "pgoutput";
  }

  start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    const publications = this.options.publicationNames.map((p) => p.replaceAll("'", "''")).join(",");
    const streaming = this.options.protoVersion >= 2 ? ", streaming 'on'" : "";
    const sql = `START_REPLICATION SLOT "${slotName.replaceAll('"', '""')}" LOGICAL ${lastLsn} (proto_version '${this.options.protoVersion}', publication_names '${publications}'${streaming})`;
    return client.query(sql);
  }

  parse(buf: Buffer): ReplicationMessage {
    const msg = this.parseRaw(buf);
    // Values stay Postgres text (types.ts converts them); the library would apply pg's global parsers.
    if (msg.tag === "relation") for (const column of msg.columns) column.parser = keepText;
    return msg;
  }

  private parseRaw(buf: Buffer): ReplicationMessage {
    const tag = String.fromCharCode(buf[0] ?? 0);
    switch (tag) {
      case "S":
        this.inStream = true;
        return { tag: "stream_start", xid: buf.readInt32BE(1), first: buf[5] === 1 };
      case "E":
        this.inStream = false;
        return { tag: "stream_stop" };
      case "c":
        return { tag: "stream_commit", xid: buf.readInt32BE(1), commitLsn: readLsn(buf, 6), commitEndLsn: readLsn(buf, 14), commitTimeMs: pgTimeToMs(buf.readBigInt64BE(22)) };
      case "A":
        return { tag: "stream_abort", xid: buf.readInt32BE(1), subxid: buf.readInt32BE(5) };
      default:
        break;
    }
    if (this.inStream && XID_TAGS.has(buf[0] ?? 0)) {
      const xid = buf.readInt32BE(1);
      const rest = Buffer.concat([buf.subarray(0, 1), buf.subarray(5)]);
      return { ...this.inner.parse(rest), xid };
    }
    return this.inner.parse(buf);
  }
}
