/**
 * zstd request bodies (`Content-Encoding: zstd`), which a server decodes and Node 20's zlib
 * cannot: fzstd (a maintained pure-JS decoder) behind a Transform, frame after frame as the
 * server's ZstdInflatingReadBuffer reads them. A body it cannot decode fails with the
 * server's ZSTD_DECODER_FAILED.
 */
import { Transform, type TransformCallback } from "node:stream";
import { Decompress } from "fzstd";
import { FrontError } from "./errors.js";

function decoderError(err: unknown): FrontError {
  return new FrontError(561, "ZSTD_DECODER_FAILED", `Zstd stream decoding failed: ${err instanceof Error ? err.message : String(err)}`);
}

export function createZstdDecoder(): Transform {
  const out: Transform = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      try {
        zstd.push(chunk);
        done();
      } catch (err) {
        done(decoderError(err));
      }
    },
    flush(done: TransformCallback): void {
      try {
        zstd.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(decoderError(err));
      }
    },
  });
  // fzstd may hand out views of its window, which later input overwrites: copy each piece.
  const zstd = new Decompress((data) => void out.push(Buffer.from(data)));
  return out;
}
