/** Chunk size of a batch body: large enough for few allocations, small enough to waste little. */
const CHUNK_BYTES = 1 << 20;

/**
 * Builds an insert body by copying bytes into large chunks as records arrive, so a batch
 * holds its data once (no per-record buffers, no concatenation at insert time) and the
 * source's fetch buffers are free to go as soon as a fetch is handed over.
 */
export class BodyWriter {
  private readonly chunks: Buffer[] = [];
  private current = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
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
    const size = bytes.length + 1;
    if (size > this.current.length - this.used) this.nextChunk(size);
    bytes.copy(this.current, this.used);
    const view = this.current.subarray(this.used, this.used + bytes.length);
    this.current[this.used + bytes.length] = 0x0a;
    this.used += size;
    this.length += size;
    return view;
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

  /** The body as chunks, in order. */
  finish(): Buffer[] {
    return this.used === 0 ? [...this.chunks] : [...this.chunks, this.current.subarray(0, this.used)];
  }

  private nextChunk(atLeast: number): void {
    if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
    this.current = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, atLeast));
    this.used = 0;
  }
}
