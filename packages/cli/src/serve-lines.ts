/**
 * Newline framing for `kvlar serve --stdio`. Chunks of a partial line are joined once, when its
 * `\n` arrives; a line that outgrows the limit is dropped as it streams by (only its size and
 * its first bytes are kept, to address the error answer) so memory stays bounded.
 */

/** A complete line, without its `\n` and a trailing `\r`. */
export interface LineFrame {
  readonly kind: 'line';
  readonly bytes: Buffer;
}

/** A line longer than the limit. */
export interface OversizeFrame {
  readonly kind: 'oversize';
  /** The line's length in bytes, without its `\n`. */
  readonly bytes: number;
  /** Its first bytes (at most HEAD_BYTES), where a request's `id` usually is. */
  readonly head: Buffer;
}

export type ServeFrame = LineFrame | OversizeFrame;

const HEAD_BYTES = 512;
const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  readonly maxBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Set while an oversize line streams by. */
  #dropping: { bytes: number; head: Buffer } | undefined;

  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  /** Appends the frames `chunk` completes to `frames`. Blank lines are skipped. */
  push(chunk: Buffer, frames: ServeFrame[]): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(LF, start);
      if (newline === -1) {
        this.#accumulate(chunk.subarray(start));
        return;
      }
      this.#finish(chunk.subarray(start, newline), frames);
      start = newline + 1;
    }
  }

  /** The end of the stream: a last line without `\n` still counts. */
  end(frames: ServeFrame[]): void {
    if (this.#dropping !== undefined || this.#buffered > 0) this.#finish(Buffer.alloc(0), frames);
  }

  #accumulate(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#dropping !== undefined) {
      this.#dropping.bytes += piece.length;
      return;
    }
    if (this.#buffered + piece.length > this.maxBytes) {
      this.#dropping = { bytes: this.#buffered + piece.length, head: this.#head(piece) };
      this.#chunks = [];
      this.#buffered = 0;
      return;
    }
    // A copy: a view would pin the whole chunk it came in until the line ends.
    this.#chunks.push(Buffer.from(piece));
    this.#buffered += piece.length;
  }

  #finish(piece: Buffer, frames: ServeFrame[]): void {
    if (this.#dropping !== undefined) {
      frames.push({
        kind: 'oversize',
        bytes: this.#dropping.bytes + piece.length,
        head: this.#dropping.head,
      });
      this.#dropping = undefined;
      return;
    }
    let line = piece;
    if (this.#buffered > 0) {
      this.#chunks.push(piece);
      line = Buffer.concat(this.#chunks, this.#buffered + piece.length);
      this.#chunks = [];
      this.#buffered = 0;
    }
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxBytes) {
      frames.push({
        kind: 'oversize',
        bytes: line.length,
        head: Buffer.from(line.subarray(0, HEAD_BYTES)),
      });
      return;
    }
    if (isBlank(line)) return;
    frames.push({ kind: 'line', bytes: line });
  }

  /** The first HEAD_BYTES of what is buffered followed by `piece`. */
  #head(piece: Buffer): Buffer {
    const joined = Buffer.concat([...this.#chunks, piece.subarray(0, HEAD_BYTES)]);
    return Buffer.from(joined.subarray(0, HEAD_BYTES));
  }
}

function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const byte = line[i]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== CR) return false;
  }
  return true;
}
