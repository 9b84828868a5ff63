/** Chunk size of a batch body: large enough for few allocations, small enough to waste little. */
const CHUNK_BYTES = 1 << 20;

/**
 * Chunks of bodies that are inserted and committed, reused by the next batches. Allocating
 * a fresh megabyte per megabyte of records left every committed body as garbage that only a
 * full (mark-compact) collection frees, and each such allocation counts toward V8's next
 * full collection. At most one default batch's worth (20 MiB) is kept spare: one batch fills
 * while one is inserted, so the chunks of the batch before are all the next one needs.
 */
const spare: Buffer[] = [];
const MAX_SPARE_CHUNKS = 24;

function takeChunk(atLeast: number): Buffer {
  if (atLeast <= CHUNK_BYTES) return spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  return Buffer.allocUnsafe(atLeast);
}

/** Spare chunks held for reuse now (for tests). */
export function spareChunks(): number {
  return spare.length;
}

/**
 * Builds an insert body by copying bytes into large chunks as records arrive, so a batch
 * holds its data once (no per-record buffers, no concatenation at insert time) and the
 * source's fetch buffers are free to go as soon as a fetch is handed over.
 */
export class BodyWriter {
  private readonly chunks: Buffer[] = [];
  /** Every pooled-size chunk this writer took, whole (the chunks above are their used parts). */
  private readonly owned: Buffer[] = [];
  private current = this.own(takeChunk(0));
  private used = 0;
  private released = false;
  length = 0;

  /** Copies `bytes` in; returns the view of the copy (valid as long as the writer's chunks are). */
  write(bytes: Buffer): Buffer {
    if (bytes.length > this.current.length - this.used) this.nextChunk(bytes.length);
    bytes.copy(this.current, this.used);
    const view = this.current.subarray(this.used, this.used + bytes.length);
    this.used += bytes.length;
    this.length += bytes.length;
    return view;
  }

  /** Copies `bytes` and a newline in; returns the view of the bytes (no second view for the newline). */
  writeLine(bytes: Buffer): Buffer {
    const start = this.copyLine(bytes);
    return this.current.subarray(start, start + bytes.length);
  }

  /**
   * writeLine without the view, for the per-record hot path: returns where the bytes start
   * in `chunk` (the chunk they went to, until the next write).
   */
  copyLine(bytes: Buffer): number {
    const size = bytes.length + 1;
    if (size > this.current.length - this.used) this.nextChunk(size);
    const start = this.used;
    bytes.copy(this.current, start);
    this.current[start + bytes.length] = 0x0a;
    this.used += size;
    this.length += size;
    return start;
  }

  /** The chunk the last write went to. */
  get chunk(): Buffer {
    return this.current;
  }

  /** Encodes `text` as UTF-8 straight into the chunk; returns the view of it. */
  writeString(text: string): Buffer {
    const size = Buffer.byteLength(text);
    if (size > this.current.length - this.used) this.nextChunk(size);
    this.current.write(text, this.used);
    const view = this.current.subarray(this.used, this.used + size);
    this.used += size;
    this.length += size;
    return view;
  }

  /**
   * Encodes `text` and a newline straight into the chunk; returns the view of both (a mapped
   * row's line). Measures the text only when the chunk might not hold it: UTF-8 takes at most
   * three bytes per UTF-16 unit.
   */
  writeStringLine(text: string): Buffer {
    const room = this.current.length - this.used - 1;
    if (text.length * 3 > room) {
      const size = Buffer.byteLength(text) + 1;
      if (size > room + 1) this.nextChunk(size);
    }
    const start = this.used;
    const size = this.current.write(text, start);
    this.current[start + size] = 0x0a;
    this.used += size + 1;
    this.length += size + 1;
    return this.current.subarray(start, this.used);
  }

  /** The body as chunks, in order. */
  finish(): Buffer[] {
    return this.used === 0 ? [...this.chunks] : [...this.chunks, this.current.subarray(0, this.used)];
  }

  /**
   * The body is in ClickHouse and no view of it is read any more (the batch is committed):
   * its chunks go back to the pool. Views handed out before must not be used after this.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const chunk of this.owned) if (spare.length < MAX_SPARE_CHUNKS) spare.push(chunk);
    this.owned.length = 0;
  }

  private nextChunk(atLeast: number): void {
    if (this.released) throw new Error("BodyWriter: written after release (its chunks belong to another batch now)");
    if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
    this.current = this.own(takeChunk(atLeast));
    this.used = 0;
  }

  private own(chunk: Buffer): Buffer {
    if (chunk.length === CHUNK_BYTES) this.owned.push(chunk);
    return chunk;
  }
}
