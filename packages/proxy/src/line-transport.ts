import type { Readable, Writable } from 'node:stream';
import type {
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { readEnvelope } from './envelope.js';
import {
  type CutFrame,
  DEFAULT_MAX_MESSAGE_BYTES,
  type DuplicateKey,
  type DuplicateKeyTracking,
  decodeError,
  decodeMessage,
  type FrameError,
  LineCutter,
  MAX_NESTING_DEPTH,
  oversizeError,
  serializeMessage,
} from './framing.js';
import { LineParts } from './line-parts.js';

/** Options of `LineTransport`. */
export interface LineTransportOptions {
  /** Longer lines are discarded and reported as a `too_large` FrameError. */
  readonly maxMessageBytes?: number;
  /**
   * Record repeated keys, for `frameInfo(message).duplicateKeys`: in every object (true, the
   * default) or only among a message's own keys (`'envelope'`, for a server's messages).
   */
  readonly trackDuplicateKeys?: DuplicateKeyTracking;
  /** Names the peer in error messages, e.g. `upstream stdio`. */
  readonly label?: string;
  /**
   * Deliver a response (`result`) at least this large as its envelope, parsing the rest only if
   * asked (`frameInfo(message).complete`). For a server's answers, which are relayed unread.
   */
  readonly lazyMessageBytes?: number;
  /**
   * Called once lines passed to `sendRaw` as bytes (answers relayed as received) have been
   * written, with their size and the buffers themselves, in order; not if the write failed.
   * Neither the transport nor the proxy reads those buffers again. V8 frees such buffers only
   * after tens of megabytes of them have piled up; a host that cares about peak memory can free
   * them here: with `releaseReads` when it owns the stream they were read from and the output's
   * writes have left the process once they complete (a socket or pipe, not a `PassThrough`),
   * and with a young-generation collection every few MiB (docs/adr/018, docs/adr/026).
   */
  readonly onRawWritten?: (bytes: number, buffers: readonly Buffer[]) => void;
}

/** How a delivered message looked on the wire. */
export interface FrameInfo {
  /**
   * The line's bytes as received (without `\n` and a trailing `\r`): forward these to pass a
   * message on unchanged without encoding it again.
   */
  readonly line: Buffer;
  /**
   * Set on a large message delivered as its envelope only when its line came in several reads:
   * the line is these parts, in order. Forward these instead of `line`, which joins them into
   * one new Buffer when first read.
   */
  readonly parts?: readonly Buffer[];
  /** The line's size in bytes. */
  readonly bytes: number;
  readonly duplicateKeys: readonly DuplicateKey[];
  /**
   * Set on a large message delivered as its envelope only (`lazyMessageBytes`): the members the
   * proxy routes on are real, the others are null. Call it for the whole message when its
   * content matters; it is parsed strictly then.
   */
  readonly complete?: () =>
    | { readonly ok: true; readonly value: unknown }
    | { readonly ok: false; readonly error: FrameError };
  /** With `complete`: whether the result's `isError` member is `true` (read from the bytes). */
  readonly resultIsError?: boolean;
}

/** A write batch smaller than this is copied into one buffer rather than written part by part. */
const SMALL_BATCH_BYTES = 64 * 1024;

const ignore = (): void => {};

/** The UTF-8 size of `parts`. */
function byteLengthOf(parts: readonly (string | Buffer)[]): number {
  let bytes = 0;
  for (const part of parts)
    bytes += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
  return bytes;
}

/** `parts` (strings as UTF-8) copied into one buffer of `bytes` bytes. */
function joinParts(parts: readonly (string | Buffer)[], bytes: number): Buffer {
  const joined = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const part of parts) {
    offset += typeof part === 'string' ? joined.write(part, offset) : part.copy(joined, offset);
  }
  return joined;
}

/** From this size on, a server's answer is relayed from its envelope (`lazyMessageBytes`). */
export const LAZY_RESPONSE_BYTES = 256 * 1024;

/** The message a LineTransport is delivering (its `onmessage` is running), and its wire form. */
let deliveringMessage: object | undefined;
let deliveringInfo: FrameInfo | undefined;
/** The wire form of whole messages read later from an envelope (`FrameInfo.complete`). */
const completedInfos = new WeakMap<object, FrameInfo>();

/**
 * The wire form of a message a LineTransport delivered, asked while its `onmessage` handler runs
 * (or of a value `FrameInfo.complete` returned); undefined for any other value. Kept for the
 * delivery only, not in a WeakMap per message: a proxy asks at once, and every message pays
 * for what is kept.
 */
export function frameInfo(message: object): FrameInfo | undefined {
  if (message === deliveringMessage) return deliveringInfo;
  return completedInfos.get(message);
}

/**
 * The SDK `Transport` over newline-delimited JSON on a Readable + Writable pair (stdio, a child
 * process's pipes, a socket). It delivers whatever JSON a line holds, unvalidated: the proxy
 * checks shapes itself and must see what the peer really sent. A bad line is reported to
 * `onerror` as a FrameError, and the stream goes on.
 */
export class LineTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?:
    | (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void)
    | undefined;

  readonly label: string;
  readonly #readable: Readable;
  readonly #writable: Writable;
  readonly #splitter: LineCutter;
  readonly #trackDuplicateKeys: DuplicateKeyTracking;
  readonly #lazyMessageBytes: number;
  readonly #onRawWritten: ((bytes: number, buffers: readonly Buffer[]) => void) | undefined;
  /** One stream both ways, as a socket is. */
  readonly #duplex: boolean;
  #started = false;
  #closed = false;
  /** Settles once the latest write has been flushed (or failed): what `drain` waits for. */
  #lastWrite: Promise<void> = Promise.resolve();

  constructor(readable: Readable, writable: Writable, options: LineTransportOptions = {}) {
    this.#readable = readable;
    this.#writable = writable;
    this.#duplex = (readable as unknown) === writable;
    this.#lazyMessageBytes = options.lazyMessageBytes ?? Number.POSITIVE_INFINITY;
    // A line delivered as its envelope is relayed as the reads it came in, never joined.
    this.#splitter = new LineCutter(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, {
      partsFrom: this.#lazyMessageBytes,
    });
    this.#trackDuplicateKeys = options.trackDuplicateKeys ?? true;
    this.label = options.label ?? 'line transport';
    this.#onRawWritten = options.onRawWritten;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error(`${this.label}: already started`);
    if (this.#closed) throw new Error(`${this.label}: cannot start, the transport is closed`);
    this.#started = true;
    this.#readable.on('data', this.#onData);
    this.#readable.on('end', this.#onEnd);
    this.#readable.on('close', this.#onReadableClose);
    this.#readable.on('error', this.#onStreamError);
    if (!this.#duplex) this.#writable.on('error', this.#onStreamError);
    // Its 'end' or 'close' has come and gone (a child that already exited): nothing will follow.
    if (this.#readable.readableEnded || this.#readable.destroyed) {
      queueMicrotask(this.#onReadableClose);
    }
  }

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    return this.#write(`${serializeMessage(message)}\n`);
  }

  /**
   * Writes `line` (one JSON text, e.g. `frameInfo(message).line`, or its `parts` in order) as a
   * line, unchanged.
   */
  sendRaw(line: string | Buffer | readonly Buffer[]): Promise<void> {
    // A line break would split the text into lines the peer reads as separate messages.
    const breaks =
      typeof line === 'string'
        ? line.includes('\n') || line.includes('\r')
        : Buffer.isBuffer(line)
          ? line.includes(0x0a) || line.includes(0x0d)
          : line.some((part) => part.includes(0x0a) || part.includes(0x0d));
    if (breaks) {
      return Promise.reject(new Error(`${this.label}: cannot send raw text holding a line break`));
    }
    return this.#write(typeof line === 'string' ? `${line}\n` : line);
  }

  /** Resolves once everything written so far has been flushed (or has failed). */
  drain(): Promise<void> {
    if (this.#batch === undefined && this.#writable.writableLength === 0) return Promise.resolve();
    return this.#lastWrite;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const readable = this.#readable;
    readable.off('data', this.#onData);
    readable.off('end', this.#onEnd);
    readable.off('close', this.#onReadableClose);
    // The 'error' listeners stay (they ignore errors once closed): a late EPIPE or reset on a
    // stream without one would crash the process.
    const writable = this.#writable;
    this.#flush();
    if (!writable.destroyed && !writable.writableEnded) writable.end();
    if (this.#duplex) {
      // A socket: read on, discarding, until the peer's FIN closes it. Destroying it with
      // unread input would send a reset, which can lose the replies still in flight.
      readable.resume();
    } else {
      // Only paused, not destroyed: destroying process.stdin can make the process hang or fail.
      readable.pause();
    }
    this.onclose?.();
  }

  #write(line: string | Buffer | readonly Buffer[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Error(`${this.label}: cannot send, the transport is closed`));
    }
    if (this.#writable.destroyed || this.#writable.writableEnded) {
      // E.g. a child's stdin, which Node destroys when the child exits.
      return Promise.reject(new Error(`${this.label}: cannot send, the output stream is closed`));
    }
    // Lines sent in one tick leave in one write: a pipelined peer costs one syscall per batch,
    // not one per message. They share one promise: they leave (or fail) together.
    let batch = this.#batch;
    if (batch === undefined) {
      let settle: (error?: Error | null) => void = ignore;
      const done = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
      batch = { parts: [], text: '', raw: [], done, settle };
      this.#batch = batch;
      this.#lastWrite = done.then(ignore, ignore);
      process.nextTick(this.#flush);
    }
    if (typeof line === 'string') {
      batch.text += line;
    } else {
      // A large raw line goes out as the bytes it came in as, after what was queued before it.
      if (batch.text !== '') batch.parts.push(batch.text);
      if (Buffer.isBuffer(line)) {
        batch.parts.push(line);
        batch.raw.push(line);
      } else {
        for (const part of line) {
          batch.parts.push(part);
          batch.raw.push(part);
        }
      }
      batch.parts.push('\n');
      batch.text = '';
    }
    return batch.done;
  }

  #batch:
    | {
        parts: (string | Buffer)[];
        text: string;
        /** The Buffer parts (lines relayed as they came in). */
        raw: Buffer[];
        /** Settles when the batch has been written (rejects if it could not be). */
        done: Promise<void>;
        settle(error?: Error | null): void;
      }
    | undefined;

  readonly #flush = (): void => {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined) return;
    const settle = (error?: Error | null) => {
      batch.settle(error);
      if (error || batch.raw.length === 0 || this.#onRawWritten === undefined) return;
      let bytes = 0;
      for (const part of batch.raw) bytes += part.length;
      if (bytes > 0) this.#onRawWritten(bytes, batch.raw);
    };
    if (this.#writable.destroyed || this.#writable.writableEnded) {
      settle(new Error(`${this.label}: cannot send, the output stream is closed`));
      return;
    }
    if (batch.parts.length === 0) {
      this.#writable.write(batch.text, settle);
      return;
    }
    if (batch.text !== '') batch.parts.push(batch.text);
    const bytes = byteLengthOf(batch.parts);
    if (bytes < SMALL_BATCH_BYTES) {
      // A small batch leaves as one buffer in one write: cheaper than a writev of its parts.
      this.#writable.write(joinParts(batch.parts, bytes), settle);
      return;
    }
    const last = batch.parts.length - 1;
    this.#writable.cork();
    batch.parts.forEach((part, index) => {
      if (index === last) this.#writable.write(part, settle);
      else this.#writable.write(part);
    });
    this.#writable.uncork();
  };

  readonly #onData = (chunk: Buffer | string): void => {
    const frames = this.#splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (frames.length > 0) this.#deliver(frames);
  };

  readonly #onEnd = (): void => {
    if (this.#closed) return;
    const frames = this.#splitter.end();
    if (frames.length > 0) this.#deliver(frames);
    void this.close();
  };

  /** Closed without an end (destroyed): a partial last line may be cut short, so it is dropped. */
  readonly #onReadableClose = (): void => {
    if (!this.#closed) void this.close();
  };

  readonly #onStreamError = (error: Error): void => {
    if (this.#closed) return;
    this.onerror?.(error);
    void this.close();
  };

  #deliver(frames: readonly CutFrame[]): void {
    for (const frame of frames) {
      // A handler may close the transport mid-chunk: what follows is then not delivered.
      if (this.#closed) return;
      if (frame.kind === 'oversize') {
        this.onerror?.(oversizeError(frame, this.#splitter.maxBytes));
        continue;
      }
      if (frame.bytes.length >= this.#lazyMessageBytes) {
        const shell = this.#envelopeOf(
          frame.kind === 'parts' ? frame.bytes : new LineParts([frame.bytes]),
        );
        if (shell !== undefined) {
          this.#emit(shell.value, shell.info);
          continue;
        }
      }
      // Not relayed unread after all: read in full, as one Buffer.
      const bytes = frame.kind === 'parts' ? frame.bytes.join() : frame.bytes;
      const decoded = decodeMessage(bytes, { trackDuplicateKeys: this.#trackDuplicateKeys });
      if (!decoded.ok) {
        this.onerror?.(decodeError(bytes, decoded));
        continue;
      }
      const value = decoded.value;
      const info =
        typeof value === 'object' && value !== null
          ? { line: bytes, bytes: bytes.length, duplicateKeys: decoded.duplicateKeys }
          : undefined;
      this.#emit(value, info);
    }
  }

  #emit(value: unknown, info: FrameInfo | undefined): void {
    // Saved and restored: a handler writing to an in-memory stream can make another transport
    // deliver before this one returns.
    const previousMessage = deliveringMessage;
    const previousInfo = deliveringInfo;
    deliveringMessage = info === undefined ? undefined : (value as object);
    deliveringInfo = info;
    try {
      this.onmessage?.(value as JSONRPCMessage);
    } catch (error) {
      // Thrown from a 'data' listener it would crash the process, or stop the stream.
      this.onerror?.(new Error(`${this.label}: the message handler threw`, { cause: error }));
    } finally {
      deliveringMessage = previousMessage;
      deliveringInfo = previousInfo;
    }
  }

  /** A response's envelope, with `complete` to parse it all; undefined to take the full path. */
  #envelopeOf(parts: LineParts): { value: object; info: FrameInfo } | undefined {
    // A bare `\r` is JSON whitespace, but cannot be sent on in a line: such a message is sent
    // re-serialised, which needs all of it.
    if (parts.includes(0x0d) || !parts.isUtf8()) return undefined;
    const envelope = readEnvelope(parts, MAX_NESTING_DEPTH);
    if (envelope === undefined) return undefined;
    const { keys, members, resultIsError } = envelope;
    if (!keys.includes('result') || keys.includes('error') || keys.includes('method')) {
      return undefined;
    }
    const shell: Record<string, unknown> = {};
    for (const key of keys)
      shell[key] = Object.hasOwn(members, key) ? members[key as keyof typeof members] : null;
    return { value: shell, info: new EnvelopeInfo(parts, resultIsError, this.#trackDuplicateKeys) };
  }
}

/**
 * The wire form of a message delivered as its envelope: its parts, joined into `line` only if
 * that is read. A class, not an object literal with a getter and closures: with such a literal,
 * glibc's heap grew to 42–47 MiB over ten 5 MB answers, against 18 MiB (docs/adr/024).
 */
class EnvelopeInfo implements FrameInfo {
  readonly parts?: readonly Buffer[];
  readonly bytes: number;
  readonly duplicateKeys: readonly DuplicateKey[] = [];
  readonly resultIsError: boolean;
  readonly #lineParts: LineParts;
  readonly #trackDuplicateKeys: DuplicateKeyTracking;
  #joined: Buffer | undefined;

  constructor(
    lineParts: LineParts,
    resultIsError: boolean,
    trackDuplicateKeys: DuplicateKeyTracking,
  ) {
    if (lineParts.parts.length > 1) this.parts = lineParts.parts;
    this.bytes = lineParts.length;
    this.resultIsError = resultIsError;
    this.#lineParts = lineParts;
    this.#trackDuplicateKeys = trackDuplicateKeys;
  }

  get line(): Buffer {
    this.#joined ??= this.#lineParts.join();
    return this.#joined;
  }

  readonly complete = ():
    | { readonly ok: true; readonly value: unknown }
    | { readonly ok: false; readonly error: FrameError } => {
    const bytes = this.line;
    const decoded = decodeMessage(bytes, { trackDuplicateKeys: this.#trackDuplicateKeys });
    if (!decoded.ok) return { ok: false, error: decodeError(bytes, decoded) };
    if (typeof decoded.value === 'object' && decoded.value !== null) {
      completedInfos.set(decoded.value, {
        line: bytes,
        bytes: bytes.length,
        duplicateKeys: decoded.duplicateKeys,
      });
    }
    return { ok: true, value: decoded.value };
  };
}
