/**
 * Rows of `COPY ... TO STDOUT` in its text format: one line per row, columns split by tab,
 * `\N` for NULL, backslash escapes for the rest (the format, not a wire protocol:
 * https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.2).
 */

const ESCAPES: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };

function unescapeField(field: string): string {
  if (!field.includes("\\")) return field;
  return field.replace(/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e.startsWith("x")) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ESCAPES[e] ?? e;
  });
}

/** One text-format line (without its newline) → the column values. */
export function decodeCopyLine(line: string): (string | null)[] {
  return line.split("\t").map((f) => (f === "\\N" ? null : unescapeField(f)));
}

/** Splits a chunked byte stream into complete lines; the unfinished tail waits for the next chunk. */
export class LineSplitter {
  private tail: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    const data = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
      lines.push(data.toString("utf8", start, nl));
      start = nl + 1;
    }
    this.tail = data.subarray(start);
    return lines;
  }

  /** Bytes left without a final newline (COPY always ends rows with one, so this is empty). */
  get rest(): number {
    return this.tail.length;
  }
}
