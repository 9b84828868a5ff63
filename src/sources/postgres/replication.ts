/**
 * The pgoutput stream of the pipe's slot (pg-logical-replication's service with our
 * protocol-2 streaming plugin). Flow control is on: the library pauses the socket while our
 * handler runs, so the sink's backpressure reaches the server. The slot is confirmed only
 * through `confirm(lsn)`, called once rows up to that commit are in ClickHouse; a timer
 * sends that position as the standby status every few seconds and the server's keepalive
 * requests are answered at once, whether or not a batch is being inserted.
 */
import type pg from "pg";
import { LogicalReplicationService } from "pg-logical-replication";
import { SourceError } from "../../ingest/errors.js";
import type { Logger } from "../../ingest/logger.js";
import { type ReplicationMessage, StreamingPgoutput } from "./pgoutput-stream.js";

export interface ReplicationOptions {
  readonly config: pg.ClientConfig;
  readonly slot: string;
  readonly publication: string;
  readonly protoVersion: 1 | 2;
  readonly logger: Logger;
  /** Called for each message in WAL order; the stream is paused until it resolves. */
  readonly onMessage: (lsn: string, message: ReplicationMessage) => Promise<void>;
  /** The connection failed (the source restarts replication from the confirmed position). */
  readonly onError: (err: Error) => void;
  readonly statusIntervalMs?: number;
}

export class SlotReader {
  private readonly service: LogicalReplicationService;
  private confirmed: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: ReplicationOptions) {
    // auto acknowledge off: the library would confirm what it received, not what is in ClickHouse.
    this.service = new LogicalReplicationService(opts.config, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } });
    this.service.on("data", (lsn: string, msg: ReplicationMessage) => opts.onMessage(lsn, msg));
    this.service.on("heartbeat", (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) void this.sendStatus();
    });
    this.service.on("error", (err: Error) => {
      if (!this.stopped) opts.onError(new SourceError(`replication from slot ${opts.slot} failed: ${err.message}`, { retriable: true, cause: err, context: { slot: opts.slot } }));
    });
  }

  /** Starts streaming after `from` (the last confirmed commit); resolves once the server streams. */
  async start(from: string): Promise<void> {
    this.confirmed = from;
    const plugin = new StreamingPgoutput({ protoVersion: this.opts.protoVersion, publicationNames: [this.opts.publication] });
    const started = new Promise<void>((resolve) => this.service.once("start", () => resolve()));
    const subscribed = this.service.subscribe(plugin, this.opts.slot, from).catch((err: unknown) => {
      if (!this.stopped) this.opts.onError(new SourceError(`START_REPLICATION on slot ${this.opts.slot} failed: ${err instanceof Error ? err.message : String(err)}`, { retriable: true, cause: err }));
    });
    await Promise.race([started, subscribed]);
    this.timer = setInterval(() => void this.sendStatus(), this.opts.statusIntervalMs ?? 5_000);
  }

  /** Rows up to this commit LSN are in ClickHouse: the slot may release the WAL before it. */
  async confirm(lsn: string): Promise<void> {
    this.confirmed = lsn;
    await this.sendStatus();
  }

  private async sendStatus(): Promise<void> {
    if (this.confirmed === undefined || this.confirmed === "0/0" || this.stopped) return;
    try {
      await this.service.acknowledge(this.confirmed);
    } catch (err) {
      // The socket is gone; the error event restarts replication, which resends from the confirmed position.
      this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "standby status update not sent");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.service.destroy();
  }
}
