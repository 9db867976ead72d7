import { isUtf8 } from 'node:buffer';

/**
 * One line's bytes as the reads that brought them, never joined. A large answer is relayed as
 * these parts, so its bytes are held once, not twice (docs/adr/024). Reading is by position over
 * the whole line, as on one Buffer; reads go mostly forward, so the part last read is kept.
 */
export class LineParts {
  /** The line's bytes, in order; none is empty. */
  readonly parts: readonly Buffer[];
  readonly length: number;
  /** Where each part starts in the line. */
  readonly #starts: readonly number[];
  #index = 0;
  #part: Buffer;
  #start = 0;

  constructor(parts: readonly Buffer[]) {
    const kept = parts.filter((part) => part.length > 0);
    const starts: number[] = [];
    let length = 0;
    for (const part of kept) {
      starts.push(length);
      length += part.length;
    }
    this.parts = kept;
    this.length = length;
    this.#starts = starts;
    this.#part = kept[0] ?? Buffer.alloc(0);
  }

  /** The byte at `index`, or undefined outside the line (as `Buffer#at`). */
  at(index: number): number | undefined {
    const offset = index - this.#start;
    if (offset >= 0 && offset < this.#part.length) return this.#part[offset];
    if (!this.#seek(index)) return undefined;
    return this.#part[index - this.#start];
  }

  /** Which part holds the byte at `index`, or -1 outside the line. */
  partIndexOf(index: number): number {
    return this.#seek(index) ? this.#index : -1;
  }

  /** Where part `partIndex` starts in the line. */
  startOf(partIndex: number): number {
    return this.#starts[partIndex] ?? this.length;
  }

  /** The first position of `byte` at or after `from`, or -1 (as `Buffer#indexOf`). */
  indexOf(byte: number, from: number): number {
    if (from >= this.length || !this.#seek(Math.max(0, from))) return -1;
    const parts = this.parts;
    for (let index = this.#index; index < parts.length; index++) {
      const start = this.#starts[index] as number;
      const found = (parts[index] as Buffer).indexOf(byte, Math.max(0, from - start));
      if (found !== -1) return start + found;
    }
    return -1;
  }

  /** Whether any part holds `byte`. */
  includes(byte: number): boolean {
    return this.parts.some((part) => part.includes(byte));
  }

  /** Bytes `start` to `end` decoded (as `Buffer#toString`); meant for short spans. */
  toString(encoding: 'utf8' | 'latin1', start: number, end: number): string {
    if (end <= start || !this.#seek(start)) return '';
    const offset = start - this.#start;
    if (end - this.#start <= this.#part.length) {
      return this.#part.toString(encoding, offset, end - this.#start);
    }
    return this.slice(start, end).toString(encoding);
  }

  /** A copy of bytes `start` to `end`. */
  slice(start: number, end: number): Buffer {
    const pieces: Buffer[] = [];
    this.parts.forEach((part, index) => {
      const partStart = this.#starts[index] as number;
      const from = Math.max(start, partStart) - partStart;
      const to = Math.min(end, partStart + part.length) - partStart;
      if (to > from) pieces.push(part.subarray(from, to));
    });
    return Buffer.concat(pieces);
  }

  /** The whole line in one new Buffer (or the only part itself). */
  join(): Buffer {
    if (this.parts.length === 1) return this.parts[0] as Buffer;
    return Buffer.concat(this.parts as Buffer[], this.length);
  }

  /** Whether the line is valid UTF-8, a sequence cut between two parts included. */
  isUtf8(): boolean {
    return partsAreUtf8(this.parts);
  }

  /** Makes the part holding `index` the current one; false if `index` is outside the line. */
  #seek(index: number): boolean {
    if (index < 0 || index >= this.length) return false;
    if (index >= this.#start && index - this.#start < this.#part.length) return true;
    const starts = this.#starts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] as number) <= index) low = middle;
      else high = middle - 1;
    }
    this.#index = low;
    this.#part = this.parts[low] as Buffer;
    this.#start = starts[low] as number;
    return true;
  }
}

/** How many bytes a sequence with this lead byte has; 0 if it cannot lead one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Where a sequence left incomplete at the end of `bytes` (from `from` on) starts, or
 * `bytes.length` if none is: only a lead byte in the last three whose sequence runs past the
 * end counts. Anything else invalid is left for `isUtf8` to refuse.
 */
function incompleteTail(bytes: Buffer, from: number): number {
  for (let at = bytes.length - 1; at >= Math.max(from, bytes.length - 3); at--) {
    const byte = bytes[at] as number;
    if (byte >= 0x80 && byte < 0xc0) continue; // a continuation byte: look further back
    const needed = sequenceLength(byte);
    return needed > bytes.length - at ? at : bytes.length;
  }
  return bytes.length;
}

/** Whether `parts`, joined, would be valid UTF-8, checked without joining them. */
export function partsAreUtf8(parts: readonly Buffer[]): boolean {
  let carried: Buffer | undefined;
  for (const part of parts) {
    let from = 0;
    if (carried !== undefined) {
      // A sequence begun in the parts before: complete it with the bytes it still needs.
      const needed = sequenceLength(carried[0] as number) - carried.length;
      if (needed > part.length) {
        carried = Buffer.concat([carried, part]);
        continue;
      }
      if (!isUtf8(Buffer.concat([carried, part.subarray(0, needed)]))) return false;
      carried = undefined;
      from = needed;
    }
    const end = incompleteTail(part, from);
    if (!isUtf8(part.subarray(from, end))) return false;
    if (end < part.length) carried = Buffer.from(part.subarray(end));
  }
  return carried === undefined;
}
