/**
 * How much of its input a piece of code touched through the primitives that do the byte and
 * character work of the framing: a linear-time claim checked by counting, not by a stopwatch,
 * so it holds on a loaded machine and fails on a quadratic change however fast the machine.
 */
export interface Work {
  /** Bytes in the results of `Buffer.concat`. */
  bytesJoined: number;
  /** Bytes `Buffer#indexOf` read: from where it started to the match, or to the end. */
  bytesSearched: number;
  /** Characters `String#indexOf` and `String#includes` read, counted the same way. */
  charsSearched: number;
  /** Characters in the results of `String#slice`. */
  charsSliced: number;
}

/** Runs `run` (synchronous) with the primitives counted, and restores them after. */
export function countWork(run: () => void): Work {
  const work: Work = { bytesJoined: 0, bytesSearched: 0, charsSearched: 0, charsSliced: 0 };
  const concat = Buffer.concat;
  const bufferIndexOf = Buffer.prototype.indexOf;
  const { indexOf, includes, slice } = String.prototype;
  const start = (from: unknown, length: number): number => {
    const at = Math.trunc(Number(from ?? 0)) || 0;
    return at < 0 ? Math.max(0, length + at) : Math.min(at, length);
  };
  Buffer.concat = function countedConcat(
    ...args: Parameters<typeof concat>
  ): ReturnType<typeof concat> {
    const joined = concat.apply(Buffer, args);
    work.bytesJoined += joined.length;
    return joined;
  };
  Buffer.prototype.indexOf = function countedIndexOf(
    this: Buffer,
    ...args: Parameters<Buffer['indexOf']>
  ): number {
    const found = bufferIndexOf.apply(this, args);
    work.bytesSearched += (found === -1 ? this.length : found + 1) - start(args[1], this.length);
    return found;
  };
  /** Characters a search of `text` from `from` read, by where it ended. */
  const searched = (text: string, search: string, from: number | undefined, found: number) =>
    (found === -1 ? text.length : found + search.length) - start(from, text.length);
  String.prototype.indexOf = function countedIndexOf(
    this: string,
    search: string,
    from?: number,
  ): number {
    const found = indexOf.call(this, search, from);
    work.charsSearched += searched(this, search, from, found);
    return found;
  };
  String.prototype.includes = function countedIncludes(
    this: string,
    search: string,
    from?: number,
  ): boolean {
    const found = indexOf.call(this, search, from);
    work.charsSearched += searched(this, search, from, found);
    return found !== -1;
  };
  String.prototype.slice = function countedSlice(this: string, from?: number, to?: number): string {
    const sliced = slice.call(this, from, to);
    work.charsSliced += sliced.length;
    return sliced;
  };
  try {
    run();
  } finally {
    Buffer.concat = concat;
    Buffer.prototype.indexOf = bufferIndexOf;
    String.prototype.indexOf = indexOf;
    String.prototype.includes = includes;
    String.prototype.slice = slice;
  }
  return work;
}
