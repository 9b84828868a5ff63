import { createHash } from "node:crypto";

/**
 * The server id the binlog reader announces: stable per pipe, so a restarted consumer
 * replaces its own replica connection, and distinct between pipes (a server drops the older
 * of two replicas with one id). Kept clear of small ids that real servers use.
 */
export function replicaServerId(pipe: string): number {
  return 0x1000_0000 + (createHash("sha256").update(pipe).digest().readUInt32BE(0) % 0x6fff_ffff);
}
