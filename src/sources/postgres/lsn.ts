/** Postgres WAL positions: `X/Y` (two hex halves) ⇄ a 64-bit number, for ordering, versions and lag. */

export function parseLsn(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (m === null) throw new Error(`not a Postgres LSN: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The later of two LSNs (undefined counts as the earliest). */
export function maxLsn(a: string | undefined, b: string): string {
  return a === undefined || parseLsn(b) > parseLsn(a) ? b : a;
}

/** An LSN read from 8 bytes at `offset`. */
export function readLsn(buf: Buffer, offset: number): string {
  return formatLsn(buf.readBigUInt64BE(offset));
}
