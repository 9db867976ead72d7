import { constants, writeSync } from 'node:fs';
import { chmod, type FileHandle, lstat, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GENESIS_HASH } from './chain.js';
import { AuditError, sinkClosedError } from './errors.js';
import {
  chainOf,
  type FileTail,
  isNotFound,
  lastLineNumber,
  readTail,
  rotatedPath,
  syncDirectory,
} from './jsonl-files.js';
import { createRecorder, type RecordOptions } from './record.js';
import type { AuditSink } from './sink.js';
import { checkLine, type VerifyWarning } from './verify.js';
import { acquireWriterLock, resolveLogPath } from './writer-lock.js';

export interface JsonlSinkOptions extends RecordOptions {
  /** The active file, e.g. `~/.kvlar/audit/audit.jsonl`. Its directory is created if missing. */
  readonly path: string;
  /** Rotate before a record would take the file past this size. Default: no size limit. */
  readonly maxBytes?: number;
  /** Rotate at the first record of a new UTC day. Default false. */
  readonly rotateDaily?: boolean;
  /**
   * What to do when the file ends in a torn line. `refuse` (default): reject with
   * `audit_torn_line`, naming the file and line. `rotate`: move the file aside as it is (the
   * torn bytes stay as evidence), report a warning, and continue the chain in a fresh file.
   */
  readonly onTornLine?: 'refuse' | 'rotate';
  /** Receives what is worth a person's attention but does not stop the sink. */
  readonly onWarning?: (warning: VerifyWarning) => void;
  /**
   * When `write` resolves. `background` (default): once the kernel has its bytes, so it
   * survives the process being killed, while the file is flushed to disk continuously behind
   * the writes (each flush covers every record written before it began, at most 50 ms apart); a
   * failed flush stops the sink. `always`: once the record is on disk (O_DSYNC, or a datasync),
   * so it survives a power loss too, at the cost of a disk flush in every call's path
   * (docs/adr/017, docs/adr/019).
   */
  readonly sync?: 'always' | 'background';
}

export interface JsonlSink extends AuditSink {
  /** The hash of the last record written or resumed: an anchor worth keeping elsewhere. */
  readonly lastHash: string;
}

interface Pending {
  /**
   * The record's line with its `\n`. With `sync: 'always'`, bytes from the moment it is
   * accepted (a line of many string pieces would stay on the young heap, copied by every
   * scavenge, until its commit is on disk); with `background` it is written within the same
   * tick, so it stays text and a commit encodes its lines at once.
   */
  readonly line: Buffer | string;
  /** Its size in bytes. */
  readonly bytes: number;
  readonly day: string | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Opens (or creates) an append-only, hash-chained JSONL audit log and resumes its chain.
 * Writes queue in call order; one writer appends everything queued in one write and one fsync
 * (group commit) and then resolves them all.
 */
/**
 * Appends with O_DSYNC where the platform has it: each write returns once its bytes (and the new
 * size) are on disk, so a group commit is one thread-pool job rather than a write then an
 * fdatasync (measured: about twice the pipelined throughput). Elsewhere, a datasync follows.
 */
const DSYNC = typeof constants.O_DSYNC === 'number' && process.platform !== 'win32';
/** With `sync: 'background'`, the least time between the starts of two flushes. */
const FLUSH_INTERVAL_MS = 50;

const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
const APPEND_DURABLY = APPEND | (DSYNC ? constants.O_DSYNC : 0);

export async function createJsonlSink(given: JsonlSinkOptions): Promise<JsonlSink> {
  // Everything below goes by the file, not by the name it was given (a symlink, a linked
  // directory): rotation renames the log itself, and readers find its rotated files beside it.
  const options = { ...given, path: await resolveLogPath(given.path) };
  const { path } = options;
  const clock = options.clock ?? (() => new Date());
  await mkdir(dirname(path), { recursive: true });
  const background = options.sync !== 'always';
  const flags = background ? APPEND : APPEND_DURABLY;
  const lock = await acquireWriterLock(path);
  let resumed: Resumed;
  let handle: FileHandle;
  try {
    resumed = await resume(options, clock);
    handle = await open(path, flags, 0o600);
    await ownerOnly(handle, path);
    await rotatedOwnerOnly(resumed.rotated);
    if (resumed.created) await syncDirectory(dirname(path));
  } catch (error) {
    await lock.release();
    throw error;
  }
  const recorder = createRecorder({ ...options, clock }, resumed.lastHash);
  let nextIndex = resumed.nextIndex;
  let size = resumed.size;
  let day = resumed.day;

  let queue: Pending[] = [];
  /** The running drain, if any. Cleared by the drain itself, in the same tick it sees no work. */
  let writing: Promise<void> | undefined;
  let failure: AuditError | undefined;
  let closed = false;

  const append = async (lines: readonly (Buffer | string)[]) => {
    if (lines.length === 0) return;
    if (background) {
      // Into the page cache, which takes microseconds: no thread-pool round trip per commit.
      const bytes = Buffer.from(lines.join(''), 'utf8');
      for (let offset = 0; offset < bytes.length; ) {
        offset += writeSync(handle.fd, bytes, offset, bytes.length - offset);
      }
      written += 1;
      flushBehind();
      return;
    }
    const bytes =
      lines.length === 1 ? (lines[0] as Buffer) : Buffer.concat(lines as readonly Buffer[]);
    for (let offset = 0; offset < bytes.length; ) {
      offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
    }
    // Without O_DSYNC (a platform lacking it), durability takes a datasync of its own.
    if (!DSYNC) await handle.datasync();
  };

  // `background`: appends counted as they finish; one datasync at a time runs behind them, the
  // next one starting FLUSH_INTERVAL_MS after the last began if more was written meanwhile. (An
  // append that meets a flush under way can wait for it in the kernel: flushing back to back
  // made every write slow.)
  let written = 0;
  let flushedUpTo = 0;
  let flushing: Promise<void> | undefined;
  let lastFlushStart = Number.NEGATIVE_INFINITY;
  let flushTimer: NodeJS.Timeout | undefined;
  const flushBehind = () => {
    if (flushing !== undefined || flushTimer !== undefined || flushedUpTo === written) return;
    const wait = lastFlushStart + FLUSH_INTERVAL_MS - performance.now();
    if (wait > 0) {
      flushTimer = setTimeout(() => {
        flushTimer = undefined;
        flushBehind();
      }, wait);
      return;
    }
    startFlush();
  };
  const startFlush = () => {
    const target = written;
    const file = handle;
    lastFlushStart = performance.now();
    flushing = file.datasync().then(
      () => {
        flushedUpTo = target;
        flushing = undefined;
        flushBehind();
      },
      (error: unknown) => {
        flushing = undefined;
        // What the disk holds is unknown: stop, as a failed write does.
        failure ??= new AuditError('audit_write_failed', `cannot flush the audit log ${path}`, {
          cause: error,
        });
        for (const record of queue) record.reject(failure);
        queue = [];
      },
    );
  };
  /** Until everything appended so far is on disk (`background`); throws if a flush failed. */
  const flushAll = async () => {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    while (flushing !== undefined || flushedUpTo !== written) {
      if (flushing === undefined) startFlush();
      await flushing;
    }
    if (failure !== undefined) throw failure;
  };

  const rotate = async () => {
    // A rotated file is never written again: it is on disk before it is moved aside.
    if (background) await flushAll();
    await handle.close();
    await rename(path, rotatedPath(path, nextIndex++, clock()));
    handle = await open(path, flags, 0o600);
    await ownerOnly(handle, path);
    written = 0;
    flushedUpTo = 0;
    await syncDirectory(dirname(path));
    size = 0;
  };

  const commit = async (batch: readonly Pending[]) => {
    let lines: (Buffer | string)[] = [];
    for (const record of batch) {
      const bytes = record.bytes;
      const tooBig = options.maxBytes !== undefined && size + bytes > options.maxBytes;
      const newDay = options.rotateDaily === true && day !== undefined && record.day !== day;
      if (size > 0 && (tooBig || newDay)) {
        await append(lines);
        lines = [];
        await rotate();
      }
      lines.push(record.line);
      size += bytes;
      day = record.day;
    }
    await append(lines);
  };

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await commit(batch);
        for (const record of batch) record.resolve();
      } catch (error) {
        // What reached the disk is unknown: a torn line may now end the file. Appending after it
        // would hide the tear, so the sink stops; reopening it reports the tear.
        failure = new AuditError('audit_write_failed', `cannot write the audit log ${path}`, {
          cause: error,
        });
        for (const record of [...batch, ...queue]) record.reject(failure);
        queue = [];
      }
    }
    writing = undefined;
  };

  return {
    get lastHash() {
      return recorder.lastHash;
    },
    write(entry) {
      if (closed) return Promise.reject(sinkClosedError());
      if (failure !== undefined) return Promise.reject(failure);
      let line: Buffer | string;
      let bytes: number;
      let now: Date;
      try {
        const recorded = recorder.record(entry);
        const text = `${recorded.line}\n`;
        line = background ? text : Buffer.from(text, 'utf8');
        bytes = background ? Buffer.byteLength(text, 'utf8') : line.length;
        now = recorded.now;
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<void>((resolve, reject) => {
        // Formatting the day costs a date format per record: only daily rotation needs it.
        const recordDay = options.rotateDaily === true ? utcDay(now) : undefined;
        queue.push({ line, bytes, day: recordDay, resolve, reject });
        // The first commit waits for the end of this turn of the event loop, so it takes every
        // record the messages read in this turn produce, not just the first of them.
        // (With background sync a commit costs no disk wait: the end of this tick will do.)
        writing ??= (background ? Promise.resolve() : nextTurn()).then(drain);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await writing;
      if (background) await flushAll().catch(() => undefined);
      // After a failed rotation the handle may already be closed; closing is all that is left.
      await handle.close().catch(() => undefined);
      await lock.release();
    },
  };
}

/**
 * The mode given to `open` applies only when it creates the file. A log that was already there
 * (made by `touch` under a umask of 022, by another tool, by someone else in a shared directory)
 * is made its owner's alone, as a new one is; one another user owns is refused, since that user
 * could read it and rewrite it. Devices (`/dev/null`) are left as they are.
 */
async function ownerOnly(handle: FileHandle, path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const info = await handle.stat();
  if (!info.isFile()) return;
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    await handle.close();
    throw new AuditError(
      'audit_write_failed',
      `the audit log ${path} belongs to another user (uid ${info.uid}, not ${uid}), who could ` +
        'read and rewrite it; refusing to write to it. Use a file of your own.',
    );
  }
  if ((info.mode & 0o077) !== 0) await handle.chmod(info.mode & 0o700);
}

/**
 * The log's rotated files hold the same records as the log: those left readable by others (by
 * the Rust Kvlar, another tool, or a copy under a loose umask) are made their owner's alone as
 * the log is. Files of another user are left as they are: they are not written to.
 */
async function rotatedOwnerOnly(rotated: readonly string[]): Promise<void> {
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  for (const file of rotated) {
    const info = await lstat(file).catch(() => undefined);
    if (info === undefined || !info.isFile() || (uid !== undefined && info.uid !== uid)) continue;
    if ((info.mode & 0o077) !== 0) await chmod(file, info.mode & 0o700);
  }
}

interface Resumed {
  readonly lastHash: string;
  readonly nextIndex: number;
  readonly size: number;
  readonly day: string | undefined;
  readonly created: boolean;
  /** The chain's rotated files, oldest first (the active file moved aside included). */
  readonly rotated: readonly string[];
}

/** Finds where the chain stands: the last complete record of the newest file that has one. */
async function resume(options: JsonlSinkOptions, clock: () => Date): Promise<Resumed> {
  const { path } = options;
  const files = await chainOf(path);
  const tail = files.activeExists ? await readTail(path) : undefined;
  if (tail?.lastLine === undefined && tail?.torn !== true) {
    // No file, or an empty one: the chain goes on from the newest rotated file.
    const lastHash = await lastHashOf(files.rotated);
    return {
      lastHash,
      nextIndex: files.nextIndex,
      size: 0,
      day: undefined,
      created: !files.activeExists,
      rotated: files.rotated,
    };
  }
  // Checked before anything moves: a chain is never extended from a record that fails.
  const lastHash =
    tail.lastLine === undefined ? await lastHashOf(files.rotated) : hashOfLine(path, tail.lastLine);
  if (!tail.torn) {
    const day = tail.lastLine === undefined ? undefined : dayOfLine(tail.lastLine);
    return {
      lastHash,
      nextIndex: files.nextIndex,
      size: tail.size,
      day,
      created: false,
      rotated: files.rotated,
    };
  }

  const line = await lastLineNumber(path);
  if (options.onTornLine !== 'rotate') {
    throw new AuditError(
      'audit_torn_line',
      `${path}:${line}: the audit log ends in a torn (incomplete) line: a crash or a full disk ` +
        'cut a write short. Check it with `kvlar audit verify`, then move it aside and continue ' +
        "the chain in a new file: `kvlar proxy --audit-torn-line rotate`, or the sink's " +
        "onTornLine: 'rotate'.",
    );
  }
  const aside = rotatedPath(path, files.nextIndex, clock());
  await rename(path, aside);
  await syncDirectory(dirname(path));
  options.onWarning?.({
    file: aside,
    line,
    reason: 'torn_line',
    message: `${path}:${line} is a torn (incomplete) line: the file was moved aside as it was, to ${aside}; the chain continues in a new file`,
  });
  return {
    lastHash,
    nextIndex: files.nextIndex + 1,
    size: 0,
    day: undefined,
    created: true,
    rotated: [...files.rotated, aside],
  };
}

/** The last complete record's hash across rotated files, newest first; genesis if none. */
async function lastHashOf(rotated: readonly string[]): Promise<string> {
  // A rotated file may end torn (moved aside by onTornLine: 'rotate'); its last complete record
  // is where the chain went on.
  for (const file of [...rotated].reverse()) {
    let tail: FileTail;
    try {
      tail = await readTail(file);
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    if (tail.lastLine !== undefined) return hashOfLine(file, tail.lastLine);
  }
  return GENESIS_HASH;
}

/** A chain is only extended from a record that verifies on its own. */
function hashOfLine(file: string, line: string): string {
  const checked = checkLine(line);
  if (!checked.ok) {
    throw new AuditError(
      'audit_chain_broken',
      `${file}: its last record cannot be extended (${checked.message}). Run \`kvlar audit ` +
        'verify` on it; move the file aside to start a new chain.',
    );
  }
  return checked.hash;
}

function dayOfLine(line: string): string | undefined {
  const timestamp = (JSON.parse(line) as { timestamp?: unknown }).timestamp;
  const date = typeof timestamp === 'string' ? new Date(timestamp) : undefined;
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : utcDay(date);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
