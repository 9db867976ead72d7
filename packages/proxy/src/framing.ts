import { isUtf8 } from 'node:buffer';
import { LineParts } from './line-parts.js';

/** The largest line the proxy accepts; a longer one is discarded while it streams by. */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** Deeper JSON is refused: nothing legitimate nests this far, and walkers downstream recurse. */
export const MAX_NESTING_DEPTH = 256;

/** How much of the start and the end of an oversize line is kept, to sniff its id. */
const EXCERPT_BYTES = 512;

const LF = 0x0a;
const CR = 0x0d;

/** A complete line, without its `\n` and without a trailing `\r`. */
export interface LineFrame {
  readonly kind: 'line';
  readonly bytes: Buffer;
}

/** A line longer than the limit: only its size and a few bytes from each end survive. */
export interface OversizeFrame {
  readonly kind: 'oversize';
  /** The line's total length (without `\n` and a trailing `\r`). */
  readonly bytes: number;
  /** The first ≤ 512 bytes. */
  readonly head: Buffer;
  /** The last ≤ 512 bytes. */
  readonly tail: Buffer;
}

/**
 * A long line that came in several reads, given as those reads, unjoined (only with
 * `LineCutterOptions.partsFrom`); like a `LineFrame`'s, its bytes exclude the `\n` and a
 * trailing `\r`.
 */
export interface PartsFrame {
  readonly kind: 'parts';
  readonly bytes: LineParts;
}

export type Frame = LineFrame | OversizeFrame;

/** What a `LineCutter` gives. */
export type CutFrame = Frame | PartsFrame;

/** Options of `LineCutter`. */
export interface LineCutterOptions {
  /**
   * Give a line of at least this many bytes that came in several reads as a `PartsFrame`,
   * without joining them: for lines that are relayed more often than read (a server's large
   * answers), so that their bytes are not held twice. By default every line is joined.
   */
  readonly partsFrom?: number;
}

function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === LF || byte === CR;
}

function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (!isJsonWhitespace(bytes[i]!)) return false;
  }
  return true;
}

/** A copy (not a view, which would pin a whole chunk) of the last `count` bytes of `a` + `b`. */
function lastBytes(a: Buffer, b: Buffer, count: number): Buffer {
  if (b.length >= count) return Buffer.from(b.subarray(b.length - count));
  const fromA = Math.min(a.length, count - b.length);
  return Buffer.concat([a.subarray(a.length - fromA), b]);
}

/**
 * Splits a byte stream into newline-terminated lines. Chunks of a partial line are collected
 * and joined once, when the line's `\n` arrives, so a line costs O(its length) whatever the
 * chunking. A line that outgrows `maxBytes` is discarded as it streams by (only its size and
 * 512 bytes of each end are kept) and comes out as one `oversize` frame.
 */
export class LineSplitter {
  readonly #cutter: LineCutter;

  constructor(maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#cutter = new LineCutter(maxBytes);
  }

  get maxBytes(): number {
    return this.#cutter.maxBytes;
  }

  /** Bytes of the current partial line held in memory; never more than `maxBytes`. */
  get bufferedBytes(): number {
    return this.#cutter.bufferedBytes;
  }

  push(chunk: Buffer): Frame[] {
    // Without `partsFrom`, a cutter gives no PartsFrame.
    return this.#cutter.push(chunk) as Frame[];
  }

  /** Flushes a final line that has no `\n`. */
  end(): Frame[] {
    return this.#cutter.end() as Frame[];
  }
}

/**
 * The `LineSplitter` that `LineTransport` uses: the same, and with `partsFrom` it gives a long
 * line that came in several reads as a `PartsFrame`.
 */
export class LineCutter {
  readonly maxBytes: number;
  readonly #partsFrom: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Set while an oversize line streams by: its head, its tail so far, and its length so far. */
  #discard: { head: Buffer; tail: Buffer; bytes: number } | undefined;

  constructor(maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES, options: LineCutterOptions = {}) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    const partsFrom = options.partsFrom ?? Number.POSITIVE_INFINITY;
    if (!(partsFrom >= 1)) {
      throw new RangeError(`partsFrom must be at least 1, got ${partsFrom}`);
    }
    this.maxBytes = maxBytes;
    this.#partsFrom = partsFrom;
  }

  /** Bytes of the current partial line held in memory; never more than `maxBytes`. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): CutFrame[] {
    const frames: CutFrame[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(LF, start);
      if (newline === -1) {
        this.#accumulate(chunk.subarray(start));
        break;
      }
      this.#finish(chunk.subarray(start, newline), frames);
      start = newline + 1;
    }
    return frames;
  }

  /** Flushes a final line that has no `\n`. */
  end(): CutFrame[] {
    const frames: CutFrame[] = [];
    if (this.#discard !== undefined || this.#buffered > 0) this.#finish(Buffer.alloc(0), frames);
    return frames;
  }

  #accumulate(piece: Buffer): void {
    if (piece.length === 0) return;
    const discard = this.#discard;
    if (discard !== undefined) {
      discard.bytes += piece.length;
      discard.tail = lastBytes(discard.tail, piece, EXCERPT_BYTES);
      return;
    }
    if (this.#buffered + piece.length > this.maxBytes) {
      const all = this.#takeBuffered(piece);
      this.#discard = {
        head: Buffer.from(all.subarray(0, EXCERPT_BYTES)),
        tail: Buffer.from(all.subarray(Math.max(0, all.length - EXCERPT_BYTES))),
        bytes: all.length,
      };
      return;
    }
    this.#chunks.push(piece);
    this.#buffered += piece.length;
  }

  /** Ends the current line with `piece`, its last part before the `\n`. */
  #finish(piece: Buffer, frames: CutFrame[]): void {
    const discard = this.#discard;
    if (discard !== undefined) {
      this.#discard = undefined;
      let tail = lastBytes(discard.tail, piece, EXCERPT_BYTES + 1);
      let bytes = discard.bytes + piece.length;
      if (tail[tail.length - 1] === CR) {
        tail = tail.subarray(0, tail.length - 1);
        bytes -= 1;
      }
      frames.push({
        kind: 'oversize',
        bytes,
        head: discard.head,
        tail: tail.subarray(Math.max(0, tail.length - EXCERPT_BYTES)),
      });
      return;
    }
    const length = this.#buffered + piece.length;
    if (this.#buffered > 0 && length >= this.#partsFrom && length <= this.maxBytes) {
      const parts = this.#takeParts(piece);
      if (parts !== undefined) frames.push({ kind: 'parts', bytes: parts });
      return;
    }
    // The common case, a line within one chunk, is a view of that chunk: no copy.
    let line = this.#buffered === 0 ? piece : this.#takeBuffered(piece);
    if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxBytes) {
      frames.push({
        kind: 'oversize',
        bytes: line.length,
        head: Buffer.from(line.subarray(0, EXCERPT_BYTES)),
        tail: Buffer.from(line.subarray(Math.max(0, line.length - EXCERPT_BYTES))),
      });
      return;
    }
    // A blank line is skipped; checking its first byte is enough for almost every real line.
    if (line.length === 0 || (isJsonWhitespace(line[0]!) && isBlank(line))) return;
    frames.push({ kind: 'line', bytes: line });
  }

  /**
   * The buffered chunks and `piece` as they are, without a trailing `\r`; undefined for a blank
   * line. The buffer is left empty.
   */
  #takeParts(piece: Buffer): LineParts | undefined {
    const chunks = this.#chunks;
    chunks.push(piece);
    this.#chunks = [];
    this.#buffered = 0;
    let parts = new LineParts(chunks);
    if (parts.at(parts.length - 1) === CR) {
      const kept = parts.parts.slice();
      const last = kept.pop() as Buffer;
      kept.push(last.subarray(0, last.length - 1));
      parts = new LineParts(kept);
    }
    const first = parts.at(0);
    if (first === undefined) return undefined;
    if (isJsonWhitespace(first) && parts.parts.every(isBlank)) return undefined;
    return parts;
  }

  /** The buffered chunks and `piece`, joined; the buffer is left empty. */
  #takeBuffered(piece: Buffer): Buffer {
    const chunks = this.#chunks;
    chunks.push(piece);
    const joined = Buffer.concat(chunks, this.#buffered + piece.length);
    this.#chunks = [];
    this.#buffered = 0;
    return joined;
  }
}

/** A key that occurs twice in one object; `path` leads to that object. */
export interface DuplicateKey {
  readonly path: readonly (string | number)[];
  readonly key: string;
}

/**
 * Which repeated keys a decode records (`JSON.parse` silently keeps the last): in every object
 * (`true`), only among the message's own keys (`'envelope'`: `id`, `method`, `result`, …), or
 * none (`false`).
 */
export type DuplicateKeyTracking = boolean | 'envelope';

export interface DecodeOptions {
  readonly trackDuplicateKeys: DuplicateKeyTracking;
  /** Defaults to MAX_NESTING_DEPTH. */
  readonly maxDepth?: number;
}

export type DecodeResult =
  | {
      readonly ok: true;
      readonly value: unknown;
      readonly text: string;
      readonly duplicateKeys: readonly DuplicateKey[];
    }
  | {
      readonly ok: false;
      readonly kind: 'not_utf8' | 'parse' | 'too_deep';
      readonly message: string;
    };

const noDuplicates: readonly DuplicateKey[] = Object.freeze([]);

/** Decodes one line: strict UTF-8, then JSON, then a bound on nesting depth. */
export function decodeMessage(bytes: Buffer, options: DecodeOptions): DecodeResult {
  const maxDepth = options.maxDepth ?? MAX_NESTING_DEPTH;
  // isUtf8 + toString is a fatal decode as fast as a fatal TextDecoder, with no exception to
  // catch. A BOM is kept, so JSON.parse refuses it.
  if (!isUtf8(bytes)) {
    return {
      ok: false,
      kind: 'not_utf8',
      message: `message is not valid UTF-8 (invalid byte at offset ${firstInvalidUtf8Offset(bytes)})`,
    };
  }
  const text = bytes.toString('utf8');
  // The structure scan runs before JSON.parse, which would spend seconds building a 32 MB
  // `[[[…` before its depth could be checked; the scan rejects it after maxDepth + 1 brackets.
  // Reaching depth d takes at least 2d characters, so a short text needs no depth scan.
  let duplicateKeys = noDuplicates;
  const track = options.trackDuplicateKeys;
  const short = text.length <= 2 * maxDepth;
  if (!short || track === true || (track === 'envelope' && mayRepeatEnvelopeKey(text))) {
    const scanned = scanStructure(text, maxDepth, track === true ? maxDepth : track ? 1 : 0);
    if (scanned === undefined) {
      return {
        ok: false,
        kind: 'too_deep',
        message: `message nests deeper than the limit of ${maxDepth} levels`,
      };
    }
    duplicateKeys = scanned;
  }
  let value: unknown;
  try {
    // V8's JSON.parse is iterative: no stack overflow however deep the input nests.
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, kind: 'parse', message: `message is not valid JSON: ${reason}` };
  }
  return { ok: true, value, text, duplicateKeys };
}

/** A JSON-RPC message's own keys, each with its quotes, and `\u`, with which any key can be spelt. */
const ENVELOPE_TOKEN = /"(?:id|result|jsonrpc|method|params|error)"|\\u/g;

/**
 * Whether a message's own keys may repeat, for a text too short to need a depth scan: false when
 * none of JSON-RPC's keys occurs twice anywhere in it and no key can be spelt with an escape
 * (no `\u`). Any other key repeated is no JSON-RPC key, which the reader refuses once parsed
 * (`readMessage`), as it does a key differing from one only by case. One regex pass costs a
 * short text less than walking it.
 */
function mayRepeatEnvelopeKey(text: string): boolean {
  ENVELOPE_TOKEN.lastIndex = 0;
  let seen = 0;
  while (ENVELOPE_TOKEN.test(text)) {
    const end = ENVELOPE_TOKEN.lastIndex;
    if (text.charCodeAt(end - 1) === LETTER_U) return true;
    const bit = envelopeKeyBit(text, end);
    if ((seen & bit) !== 0) return true;
    seen |= bit;
  }
  return false;
}

/** A bit for the JSON-RPC key whose closing quote is at `end - 1`, told by its last letters. */
function envelopeKeyBit(text: string, end: number): number {
  switch (text.charCodeAt(end - 2)) {
    case LETTER_D: // id, method
      return text.charCodeAt(end - 3) === LETTER_I ? 1 : 2;
    case LETTER_T: // result
      return 4;
    case LETTER_C: // jsonrpc
      return 8;
    case LETTER_S: // params
      return 16;
    default: // error
      return 32;
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const length = bytes.length;
  let i = 0;
  while (i < length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let continuations: number;
    if (lead >= 0xc2 && lead <= 0xdf) continuations = 1;
    else if (lead >= 0xe0 && lead <= 0xef) continuations = 2;
    else if (lead >= 0xf0 && lead <= 0xf4) continuations = 3;
    else return i;
    if (i + continuations >= length) return i;
    // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
    const second = bytes[i + 1]!;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return i;
    for (let k = 2; k <= continuations; k++) {
      if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += continuations + 1;
  }
  return -1;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LETTER_C = 0x63;
const LETTER_D = 0x64;
const LETTER_I = 0x69;
const LETTER_S = 0x73;
const LETTER_T = 0x74;
const LETTER_U = 0x75;

/** One open container during a scan; reused across containers at the same depth. */
interface Level {
  isObject: boolean;
  expectKey: boolean;
  /** The latest key (objects) or element index (arrays): this level's step in a path. */
  key: string;
  index: number;
  /** The object's keys so far: compared one by one while there are few (no hashing), then a set. */
  keys: string[];
  keySet: Set<string> | undefined;
}

/** Up to this many keys an object's keys are compared in a list; more go into a `Set`. */
const LISTED_KEYS = 16;

/** Adds `key` to the object at `level`; false if it already had it. */
function addKey(level: Level, key: string): boolean {
  if (level.keySet !== undefined) {
    if (level.keySet.has(key)) return false;
    level.keySet.add(key);
    return true;
  }
  const keys = level.keys;
  for (let k = 0; k < keys.length; k++) {
    if (keys[k] === key) return false;
  }
  keys.push(key);
  if (keys.length > LISTED_KEYS) level.keySet = new Set(keys);
  return true;
}

/** Index of the `"` closing the string that opens at `open`, or -1 if it is unterminated. */
function stringEnd(text: string, open: number): number {
  let close = text.indexOf('"', open + 1);
  while (close !== -1) {
    // An odd run of backslashes before the quote escapes it.
    let backslash = close - 1;
    while (text.charCodeAt(backslash) === BACKSLASH) backslash--;
    if ((close - 1 - backslash) % 2 === 0) return close;
    close = text.indexOf('"', close + 1);
  }
  return -1;
}

/**
 * One iterative pass over JSON text: fails (undefined) past `maxDepth`, and lists the keys
 * repeated within an object nested at most `keyDepth` deep (1: the message's own keys; 0: none).
 * String bodies are skipped with indexOf, since strings are most of a large message. The text
 * may be invalid (it is parsed after this scan): the scan then ends or gives a meaningless list,
 * never throws or loops.
 */
function scanStructure(
  text: string,
  maxDepth: number,
  keyDepth: number,
): readonly DuplicateKey[] | undefined {
  const length = text.length;
  const levels: Level[] = [];
  let duplicates: DuplicateKey[] | undefined;
  let depth = 0;
  let i = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const close = stringEnd(text, i);
      if (close === -1) break;
      if (depth > 0 && depth <= keyDepth) {
        const level = levels[depth - 1]!;
        if (level.isObject && level.expectKey) {
          level.expectKey = false;
          const key = decodeKey(text, i, close);
          if (!addKey(level, key)) {
            duplicates ??= [];
            duplicates.push({ path: pathTo(levels, depth - 1), key });
          }
          level.key = key;
        }
      }
      i = close + 1;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      if (depth > maxDepth) return undefined;
      if (depth <= keyDepth) {
        let level = levels[depth - 1];
        if (level === undefined) {
          level = {
            isObject: false,
            expectKey: false,
            key: '',
            index: 0,
            keys: [],
            keySet: undefined,
          };
          levels.push(level);
        }
        level.isObject = code === OPEN_BRACE;
        level.expectKey = level.isObject;
        level.index = 0;
        if (level.keys.length > 0) level.keys.length = 0;
        level.keySet = undefined;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      if (depth > 0) depth--;
    } else if (code === COMMA && depth > 0 && depth <= keyDepth) {
      const level = levels[depth - 1]!;
      if (level.isObject) level.expectKey = true;
      else level.index++;
    }
    i++;
  }
  return duplicates ?? noDuplicates;
}

/** The key whose quotes are at `open` and `close`; escapes (`"n\u0061me"`) are decoded. */
function decodeKey(text: string, open: number, close: number): string {
  const raw = text.slice(open + 1, close);
  // Not text.indexOf('\\', open): with no backslash ahead, that would scan to the end each time.
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(open, close + 1)) as string;
  } catch {
    // An invalid escape: JSON.parse will reject the whole text after the scan.
    return raw;
  }
}

function pathTo(levels: readonly Level[], count: number): (string | number)[] {
  const path: (string | number)[] = [];
  for (let i = 0; i < count; i++) {
    const level = levels[i]!;
    path.push(level.isObject ? level.key : level.index);
  }
  return path;
}

// `"id"`, then `:` and an integer or a short string without escapes, JSON whitespace between.
const idPattern =
  /"id"[ \t\r\n]*:[ \t\r\n]*(?:(-?(?:0|[1-9][0-9]*))(?![0-9.eE])|"([^"\\]{0,256})")/g;

/**
 * Best-effort JSON-RPC id of a line that could not be decoded, from its first and last bytes.
 * Only to address an error answer: an id is returned when exactly one distinct candidate is
 * seen, so a nested `"id"` makes it undefined rather than a guess.
 */
export function sniffId(head: Buffer, tail: Buffer): string | number | undefined {
  const candidates = new Map<string, string | number>();
  collectIds(head.toString('utf8'), true, candidates);
  collectIds(tail.toString('utf8'), false, candidates);
  if (candidates.size !== 1) return undefined;
  return candidates.values().next().value;
}

function collectIds(
  text: string,
  cutAtEnd: boolean,
  candidates: Map<string, string | number>,
): void {
  for (const match of text.matchAll(idPattern)) {
    // A number at the very end of a head excerpt may have been cut short.
    const cut = cutAtEnd && match.index + match[0].length === text.length;
    if (match[1] !== undefined) {
      if (cut) continue;
      const id = Number(match[1]);
      if (Number.isSafeInteger(id)) candidates.set(`n${id}`, id);
    } else if (match[2] !== undefined && isPlainString(match[2])) {
      candidates.set(`s${match[2]}`, match[2]);
    }
  }
}

/** No control character (invalid in JSON strings) and no U+FFFD (from undecodable bytes). */
function isPlainString(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0xfffd) return false;
  }
  return true;
}

/** Why a line was not a message: bad JSON, bad UTF-8, nested too deep, or too long. */
export type FrameErrorKind = 'parse' | 'not_utf8' | 'too_deep' | 'too_large';

const frameErrorMarker = Symbol.for('@kvlar/frame-error');

/** A line that could not become a message. The stream goes on with the next line. */
export class FrameError extends Error {
  readonly [frameErrorMarker] = true;
  readonly kind: FrameErrorKind;
  /** The line's size in bytes. */
  readonly bytes: number;
  /** Best-effort id of the request the line held, to address an error answer. */
  declare readonly sniffedId?: string | number; // `declare`: absent, not undefined, when unknown

  constructor(
    kind: FrameErrorKind,
    message: string,
    details: { bytes: number; sniffedId?: string | number | undefined },
  ) {
    super(message);
    this.name = 'FrameError';
    this.kind = kind;
    this.bytes = details.bytes;
    if (details.sniffedId !== undefined) this.sniffedId = details.sniffedId;
  }

  static isInstance(value: unknown): value is FrameError {
    return typeof value === 'object' && value !== null && frameErrorMarker in value;
  }
}

/** The FrameError of an oversize frame. */
export function oversizeError(frame: OversizeFrame, maxBytes: number): FrameError {
  return new FrameError(
    'too_large',
    `message of ${frame.bytes} bytes exceeds the ${maxBytes}-byte limit`,
    { bytes: frame.bytes, sniffedId: sniffId(frame.head, frame.tail) },
  );
}

/** The FrameError of a line that `decodeMessage` refused. */
export function decodeError(
  bytes: Buffer,
  failure: { kind: 'not_utf8' | 'parse' | 'too_deep'; message: string },
): FrameError {
  // A short line is sniffed whole (as its tail, which is not cut at its end).
  const short = bytes.length <= 2 * EXCERPT_BYTES;
  const head = short ? bytes.subarray(0, 0) : bytes.subarray(0, EXCERPT_BYTES);
  const tail = short ? bytes : bytes.subarray(bytes.length - EXCERPT_BYTES);
  return new FrameError(failure.kind, failure.message, {
    bytes: bytes.length,
    sniffedId: sniffId(head, tail),
  });
}

/** The one place a message becomes text on the wire. */
export function serializeMessage(value: unknown): string {
  return JSON.stringify(value);
}
