import { writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GENESIS_HASH } from './chain.js';
import { AuditError, sinkClosedError } from './errors.js';
import type { AuditEntry } from './event.js';
import { createRecorder, type Recorder, type RecordOptions } from './record.js';
import type { AuditSink } from './sink.js';
import { checkLine } from './verify.js';
import { acquireWriterLock, type LockedFile, type WriterLock } from './writer-lock.js';

export interface HttpSinkOptions extends RecordOptions {
  /** The collector's endpoint. Each batch is one `POST` of `application/x-ndjson`. */
  readonly url: string | URL;
  /**
   * The local JSONL file records go to while the collector cannot take them (required). Records
   * in it are sent first, in order, when the collector answers again, including records an
   * earlier run left there. One sink per file: the sink holds `${spillPath}.lock` from start-up
   * to the end of `close`. If a live process holds it, the sink sends and spills nothing and every
   * write rejects with `audit_locked`.
   */
  readonly spillPath: string;
  /**
   * Where the chain resumes after a restart: the hash of the last record that became durable
   * (accepted by the collector, or appended to the spill or rejected file), one line of 64
   * lower-case hex digits, overwritten in place. A new sink continues from the spill file's last
   * record if it holds any, else from this hash, else from the genesis hash. Anything else in it
   * makes the sink fail closed (`audit_chain_broken`). Protected by the spill file's lock, so
   * one per spill file; a device as `spillPath` (`/dev/null`) has neither. Updated before the
   * records' writes resolve but not fsynced (see docs/audit.md). Default `${spillPath}.head`.
   */
  readonly headPath?: string;
  /**
   * The spill file never grows past this, counting what an earlier run left in it. Records that
   * would take it past are kept nowhere (their writes reject with `audit_write_failed`, counted
   * in `dropped`), and so is every record that would spill after them, until the collector has
   * taken the file's records and it is emptied. Default 1 GiB.
   */
  readonly maxSpillBytes?: number;
  /**
   * Where batches the collector refused for good (a 4xx other than 408 and 429) are kept for a
   * person: they are never sent again automatically. Default `${spillPath}.rejected`.
   */
  readonly rejectedPath?: string;
  /** Sent with every request, e.g. `{ authorization: 'Bearer …' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Default 100. */
  readonly maxBatchRecords?: number;
  /** Default 1 MiB. A record larger than this is sent in a batch of its own. */
  readonly maxBatchBytes?: number;
  /** A batch leaves at most this long after its first record was written. Default 1000. */
  readonly flushIntervalMs?: number;
  /** Per request, the response body included. Default 10 000. */
  readonly requestTimeoutMs?: number;
  /**
   * A record the collector has not accepted this long after its `write` is spilled (fsynced to
   * `spillPath`) and its `write` resolves then: the bound on what the sink adds to a call's
   * latency. Default 2000. Keep it above `flushIntervalMs`.
   */
  readonly acceptWithinMs?: number;
  /** Records held in memory for the collector; beyond this they all spill. Default 10 000. */
  readonly maxBufferedRecords?: number;
  /** First retry delay; it doubles per failed attempt, with jitter. Default 250. */
  readonly retryBaseMs?: number;
  /** The longest wait between attempts, `Retry-After` included. Default 30 000. */
  readonly retryMaxMs?: number;
  /** How long `close` keeps trying to deliver before it spills what is left. Default 5000. */
  readonly closeTimeoutMs?: number;
  /** The jitter's randomness, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Worth a person's attention; the sink carries on. An observer's exception is ignored. */
  readonly onWarning?: (warning: HttpSinkWarning) => void;
  /**
   * Records the collector refused (`audit_collector_rejected`: they are in `rejectedPath`) or
   * that could be kept nowhere (`audit_write_failed`: counted in `dropped`, their writes reject);
   * once, `audit_locked` when another live process holds the spill file.
   */
  readonly onError?: (error: AuditError) => void;
}

export interface HttpSinkWarning {
  readonly reason: /** A request failed in a way worth retrying; reported once per outage. */
    | 'collector_unavailable'
    /** The collector accepts records again. */
    | 'collector_recovered'
    /** Records go to the spill file from now on (reported when it starts to fill). */
    | 'spilling'
    /** The spill file ended in an incomplete line (a crash during a spill): it was cut off. */
    | 'spill_torn_line'
    /** The spill file could not be emptied after delivery; its records may be sent again. */
    | 'spill_not_truncated'
    /**
     * The spill file reached `maxSpillBytes`: records that would spill are dropped until it is
     * emptied. Reported once per episode (each dropped batch also goes to `onError`).
     */
    | 'spill_full'
    /**
     * The head file (`headPath`) could not be written: a sink started after this one may not
     * continue the chain from here (it would fork it at an older record, or start a new chain
     * if there is no head file). Reported once per episode.
     */
    | 'head_not_saved';
  readonly message: string;
  readonly cause?: unknown;
}

export interface HttpSinkStats {
  /** Records the collector accepted straight from memory. */
  readonly sent: number;
  /** Records the collector accepted from the spill file. */
  readonly resent: number;
  /** Records fsynced to the spill file. */
  readonly spilled: number;
  /** Records the collector refused for good, kept in `rejectedPath`. */
  readonly rejected: number;
  /**
   * Records that reached neither the collector nor a file (their writes rejected): the spill file
   * could not be written, was full, or is locked by another sink.
   */
  readonly dropped: number;
  /** Requests repeated after a network error, a timeout, 408, 429 or 5xx. */
  readonly retries: number;
  /** Records in memory waiting for the collector (or, during start-up, to be linked). */
  readonly buffered: number;
  /** Batches the collector refused for good. */
  readonly failedBatches: number;
}

export interface HttpSink extends AuditSink {
  stats(): HttpSinkStats;
  /**
   * Where this run's chain starts: the last complete record an earlier run left in the spill
   * file, else the head file's hash, else the genesis hash. Undefined until start-up has read
   * them (under the lock, before any record is linked), and for good if the sink failed closed.
   */
  readonly startHash: string | undefined;
  /**
   * The hash of the last record written (`startHash` before the first): the head of the chain
   * the collector receives. Undefined while `startHash` is.
   */
  readonly lastHash: string | undefined;
}

type ItemState = 'memory' | 'spilling' | 'spilled' | 'dropped' | 'done';

interface Item {
  readonly line: string;
  readonly bytes: number;
  /** The record's hash, and its place in the chain: 1 for this run's first record. */
  readonly hash: string;
  readonly seq: number;
  readonly writtenAt: number;
  state: ItemState;
  resolve(): void;
  reject(error: unknown): void;
}

/** A write made during start-up: linked once the chain's start is known. */
interface Unlinked {
  readonly entry: AuditEntry;
  readonly writtenAt: number;
  resolve(): void;
  reject(error: unknown): void;
}

type Batch =
  | { readonly source: 'memory'; readonly items: readonly Item[]; readonly body: string }
  | {
      readonly source: 'spill';
      readonly body: Buffer;
      readonly bytes: number;
      readonly count: number;
    };

type Attempt =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly permanent: boolean;
      readonly message: string;
      readonly retryAfterMs?: number;
      readonly cause?: unknown;
    };

const MiB = 1024 * 1024;

const SPILL_FILE: LockedFile = {
  what: "the HTTP sink's spill file",
  advice:
    "two sinks would interleave their records in it and send each other's. Give each sink its own spillPath",
};

/** The head file: a hash and a newline, always rewritten whole at offset 0. */
const HEAD_BYTES = 65;
const HEAD_PATTERN = /^[0-9a-f]{64}\n?$/;

/** What became of a batch handed to the spill file: its first `kept` records are in it. */
interface SpillOutcome {
  readonly kept: number;
  /** Why the rest are not: an I/O error or the lock; none when the file is full. */
  readonly error?: unknown;
}

/**
 * An `AuditSink` that ships hash-chained records to a collector (a SIEM, a log pipeline) in
 * batches of `application/x-ndjson`, one record line per line, in `write` order.
 *
 * **What `write` resolves on**: only once its record is durable somewhere, so a proxy that
 * forwards after `write` never forwards an unrecorded call. Either the collector answered 2xx
 * to a batch holding it, or it is fsynced to the local spill file (when the collector did not
 * accept it within `acceptWithinMs`, when the memory buffer is full, or while older records
 * still wait in the spill file). If neither is possible, the write rejects with
 * `audit_write_failed` and the record is counted in `dropped`.
 *
 * One sink per spill file, enforced by a lock taken at start-up. A sink that finds the file held
 * by a live process fails closed: it sends nothing, spills nothing, and every write rejects with
 * that `audit_locked` error.
 *
 * Delivery is at least once: a request that timed out may have reached the collector, and the
 * spill file is emptied only once all of it was accepted, so after a crash it is sent again from
 * its start. Records are unique by `hash`; a collector can drop repeats by it.
 *
 * The chain goes on across restarts (see `headPath`), so the collector receives one chain, not
 * one per run. Start-up, under the lock, finds where it stands; writes made before that are
 * linked then, in order. A start that cannot be known (a head file that is not a hash, a spill
 * file whose last record does not verify, either unreadable) fails closed as a held lock does:
 * never a silent new chain from the genesis hash.
 */
export function createHttpSink(options: HttpSinkOptions): HttpSink {
  const url = parseUrl(options.url);
  const { spillPath } = options;
  const rejectedPath = options.rejectedPath ?? `${spillPath}.rejected`;
  const maxBatchRecords = positive(options.maxBatchRecords, 100, 'maxBatchRecords');
  const maxBatchBytes = positive(options.maxBatchBytes, MiB, 'maxBatchBytes');
  const flushIntervalMs = positive(options.flushIntervalMs, 1000, 'flushIntervalMs');
  const requestTimeoutMs = positive(options.requestTimeoutMs, 10_000, 'requestTimeoutMs');
  const acceptWithinMs = positive(options.acceptWithinMs, 2000, 'acceptWithinMs');
  const maxBufferedRecords = positive(options.maxBufferedRecords, 10_000, 'maxBufferedRecords');
  const retryBaseMs = positive(options.retryBaseMs, 250, 'retryBaseMs');
  const retryMaxMs = positive(options.retryMaxMs, 30_000, 'retryMaxMs');
  const closeTimeoutMs = positive(options.closeTimeoutMs, 5000, 'closeTimeoutMs');
  const maxSpillBytes = positive(options.maxSpillBytes, 1024 * MiB, 'maxSpillBytes');
  const random = options.random ?? Math.random;
  const headPath = options.headPath ?? `${spillPath}.head`;
  const headers = new Headers(options.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/x-ndjson');
  /** Created once start-up knows where the chain stands; until then writes wait, unlinked. */
  let recorder: Recorder | undefined;
  let unlinked: Unlinked[] = [];
  let startHash: string | undefined;
  /** Records linked by this run: the `seq` of the last one. */
  let linkedCount = 0;

  const counts = {
    sent: 0,
    resent: 0,
    spilled: 0,
    rejected: 0,
    dropped: 0,
    retries: 0,
    failedBatches: 0,
  };

  // Delivery order is: the spill file's unaccepted bytes [spillOffset, spillSize), then records
  // queued for it, then `memory`. Records only ever move from the head of `memory` to the tail
  // of the spill file, and a batch is taken from memory only when the spill file has nothing
  // left to send, so the collector receives one chain in order.
  let memory: Item[] = [];
  let memoryBytes = 0;
  let spillHandle: FileHandle | undefined;
  let spillSize = 0;
  let spillOffset = 0;
  let spillQueue: Item[] = [];
  let spillQueuedBytes = 0;
  let spillDraining: Promise<void> | undefined;
  /**
   * Set when a failed append left bytes that could not be cut off, or when the lock could not be
   * taken for a reason other than another writer: nothing (more) is appended.
   */
  let spillBroken: unknown;
  /** From `maxSpillBytes` reached until the file is found empty: nothing is appended. */
  let spillFull = false;
  let rejectedHandle: FileHandle | undefined;
  /** Open from start-up to `close` while the lock is held; updated in place. */
  let headHandle: FileHandle | undefined;
  /** The `seq` of the record the head file names (0: `startHash`). */
  let headSeq = 0;
  let headFailing = false;
  let lock: WriterLock | undefined;
  /**
   * Another live process holds the spill file, or where the chain stands cannot be known: the
   * sink does nothing but reject writes.
   */
  let failedClosed: AuditError | undefined;

  let closed = false;
  let closing = false;
  let stopped = false;
  let outage = false;
  const stop = new AbortController();
  let closingStarted: () => void = () => undefined;
  const closingSignal = new Promise<void>((resolve) => {
    closingStarted = resolve;
  });
  let closePromise: Promise<void> | undefined;

  // One waiter list for "something changed" (a write, a spill, close): the pump re-checks.
  let waiters: (() => void)[] = [];
  const notify = () => {
    const current = waiters;
    waiters = [];
    for (const wake of current) wake();
  };
  const nextChange = () => new Promise<void>((resolve) => waiters.push(resolve));

  // File operations (appends, reads, truncation) run one at a time, in order.
  let fileChain: Promise<unknown> = Promise.resolve();
  const onFile = <T>(operation: () => Promise<T>): Promise<T> => {
    const run = fileChain.then(operation);
    fileChain = run.catch(() => undefined);
    return run;
  };

  const warn = (warning: HttpSinkWarning) => {
    try {
      options.onWarning?.(warning);
    } catch {
      // An observer's failure never changes what the sink does.
    }
  };
  const fail = (error: AuditError) => {
    try {
      options.onError?.(error);
    } catch {
      // As above.
    }
  };

  const spillBacklog = () => spillSize - spillOffset + spillQueuedBytes;

  // acceptWithinMs: one timer, for the oldest record in memory (deadlines follow write order).
  let deadlineTimer: NodeJS.Timeout | undefined;
  const armDeadline = () => {
    const head = memory[0];
    if (head === undefined || deadlineTimer !== undefined) return;
    const wait = Math.max(0, head.writtenAt + acceptWithinMs - performance.now());
    deadlineTimer = setTimeout(() => {
      deadlineTimer = undefined;
      const first = memory[0];
      if (first !== undefined && performance.now() >= first.writtenAt + acceptWithinMs) {
        spillMemory(`not accepted by the collector within ${acceptWithinMs} ms`);
      }
      armDeadline();
    }, wait);
  };
  const clearDeadline = () => {
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
  };

  /** Moves all of memory (and `next`, a record just written) to the tail of the spill file. */
  const spillMemory = (why: string, next?: Item) => {
    const items = memory;
    memory = [];
    memoryBytes = 0;
    clearDeadline();
    if (next !== undefined) items.push(next);
    if (items.length === 0) return;
    if (spillBacklog() === 0) {
      warn({ reason: 'spilling', message: `audit records go to ${spillPath}: ${why}` });
    }
    for (const item of items) {
      item.state = 'spilling';
      spillQueuedBytes += item.bytes;
    }
    for (const item of items) spillQueue.push(item);
    spillDraining ??= drainSpill();
    notify();
  };

  /** Links a write's entry after the last record and queues the record, or rejects the write. */
  const link = (
    chain: Recorder,
    entry: AuditEntry,
    writtenAt: number,
    resolve: () => void,
    reject: (error: unknown) => void,
  ) => {
    let line: string;
    try {
      line = `${chain.record(entry).line}\n`;
    } catch (error) {
      reject(error);
      return;
    }
    const item: Item = {
      line,
      bytes: Buffer.byteLength(line, 'utf8'),
      hash: chain.lastHash,
      seq: ++linkedCount,
      writtenAt,
      state: 'memory',
      resolve,
      reject,
    };
    // Older records wait in the spill file: this one goes behind them, durable at once.
    if (spillBacklog() > 0) return spillMemory('older records are still in the spill file', item);
    if (memory.length >= maxBufferedRecords) {
      return spillMemory(`more than ${maxBufferedRecords} records wait for the collector`, item);
    }
    memory.push(item);
    memoryBytes += item.bytes;
    armDeadline();
    notify();
  };

  /** Group commit, as in the JSONL sink: one append and one fdatasync for all that is queued. */
  const drainSpill = async () => {
    while (spillQueue.length > 0) {
      const batch = spillQueue;
      spillQueue = [];
      const bytes = batch.reduce((sum, item) => sum + item.bytes, 0);
      const { kept, error } = await onFile(() => appendSpill(batch));
      spillQueuedBytes -= bytes;
      counts.spilled += kept;
      if (kept > 0) durable(batch[kept - 1]);
      for (const item of batch.slice(0, kept)) {
        if (item.state === 'spilling') item.state = 'spilled';
        item.resolve();
      }
      const lost = batch.slice(kept);
      if (lost.length > 0) dropUnspilled(lost, error);
      notify();
    }
    spillDraining = undefined;
  };

  /** Records the spill file did not take (`error` undefined: it is full) are kept nowhere. */
  const dropUnspilled = (items: readonly Item[], error: unknown) => {
    let dropped: AuditError;
    if (failedClosed !== undefined && error === failedClosed) {
      dropped = failedClosed; // reported once, when it was found
    } else if (error === undefined) {
      dropped = new AuditError(
        'audit_write_failed',
        `the spill file ${spillPath} is full (maxSpillBytes ${maxSpillBytes}): ` +
          `${items.length} audit record(s) reached neither ${url.href} nor it`,
      );
      fail(dropped);
    } else {
      dropped = new AuditError(
        'audit_write_failed',
        `${items.length} audit record(s) reached neither ${url.href} nor the spill file ${spillPath}`,
        { cause: error },
      );
      fail(dropped);
    }
    counts.dropped += items.length;
    for (const item of items) {
      if (item.state === 'spilling') item.state = 'dropped';
      item.reject(dropped);
    }
  };

  /** Appends the longest head of `batch` that fits under `maxSpillBytes` (all of it, normally). */
  const appendSpill = async (batch: readonly Item[]): Promise<SpillOutcome> => {
    if (failedClosed !== undefined) return { kept: 0, error: failedClosed };
    if (spillBroken !== undefined) return { kept: 0, error: spillBroken };
    try {
      spillHandle ??= await openSpill();
      // Empty again (delivered and truncated): the full episode is over.
      if (spillSize === 0) spillFull = false;
      let kept = 0;
      let bytes = 0;
      if (!spillFull) {
        for (const item of batch) {
          if (spillSize + bytes + item.bytes > maxSpillBytes) break;
          bytes += item.bytes;
          kept++;
        }
      }
      if (kept < batch.length && !spillFull) {
        spillFull = true;
        warn({
          reason: 'spill_full',
          message: `${spillPath} holds ${spillSize} bytes and maxSpillBytes is ${maxSpillBytes}: audit records that cannot reach ${url.href} in time are dropped (their calls fail) until it is delivered and emptied`,
        });
      }
      if (kept === 0) return { kept };
      const text = batch
        .slice(0, kept)
        .map((item) => item.line)
        .join('');
      await appendAll(spillHandle, text);
      // The file's end moves with the append, before the next file operation checks its room.
      spillSize += bytes;
      return { kept };
    } catch (error) {
      // Cut off whatever part of the append reached the file, so the next append does not merge
      // with it; if that fails too, the file's end is unknown and nothing more goes into it.
      try {
        await spillHandle?.truncate(spillSize);
      } catch {
        spillBroken = error;
      }
      return { kept: 0, error };
    }
  };

  const openSpill = async () => {
    await mkdir(dirname(spillPath), { recursive: true });
    const handle = await open(spillPath, 'a+');
    try {
      // Whatever is already there was handled at start-up (or appeared since): not ours to send.
      spillSize = spillOffset = (await handle.stat()).size;
      await syncDirectory(dirname(spillPath));
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return handle;
  };

  /**
   * Start-up, before anything touches the spill file: its lock, then what is in it and the head
   * file, which say where the chain stands; then the writes made meanwhile are linked.
   */
  const start = async () => {
    try {
      await mkdir(dirname(spillPath), { recursive: true });
      lock = await acquireWriterLock(spillPath, SPILL_FILE);
    } catch (error) {
      if (AuditError.isInstance(error) && error.code === 'audit_locked') return failClose(error);
      // Not another writer, but the lock (and so the file) cannot be had: as with a file that
      // cannot be written, only records the collector takes in time are kept. The head file is
      // left alone too, so the chain starts over: said here, not done silently.
      spillBroken = error;
      fail(
        new AuditError(
          'audit_write_failed',
          `cannot lock the spill file ${spillPath}, so nothing is spilled and the chain starts again from the genesis hash: records ${url.href} does not accept within ${acceptWithinMs} ms are dropped`,
          { cause: error },
        ),
      );
      return beginChain(GENESIS_HASH);
    }
    let spilled: string | undefined;
    let head: string | undefined;
    try {
      const info = await stat(spillPath).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw cannotStart(spillPath, error);
      });
      // A device (`/dev/null`) has no records to resume from, and no place beside it for a head
      // file, as it has none for a lock: its chain starts from the genesis hash.
      if (info !== undefined && !info.isFile()) return beginChain(GENESIS_HASH);
      // The head first: a sink that refuses it leaves the spill file as it is.
      head = await readHead();
      if (info !== undefined && info.size > 0) spilled = await resumeSpill(info.size);
    } catch (error) {
      return failClose(
        AuditError.isInstance(error)
          ? error
          : new AuditError('audit_write_failed', 'the HTTP sink could not start', { cause: error }),
      );
    }
    const from = spilled ?? head ?? GENESIS_HASH;
    await openHead(from, head);
    beginChain(from);
  };

  const beginChain = (hash: string) => {
    const chain = createRecorder(options, hash);
    startHash = hash;
    recorder = chain;
    // In the same tick: a write made from now on links directly, after these.
    const waiting = unlinked;
    unlinked = [];
    for (const write of waiting) {
      link(chain, write.entry, write.writtenAt, write.resolve, write.reject);
    }
  };

  /**
   * Another live sink owns the spill file, or the chain's start cannot be known. Sending from
   * memory would keep calls going only while the collector is quick, and hide the mistake until
   * an outage (or fork the chain); so nothing is kept at all.
   */
  const failClose = (error: AuditError) => {
    failedClosed = error;
    fail(error);
    // Nothing is linked before start-up ends: what was written meanwhile waits here.
    const waiting = unlinked;
    unlinked = [];
    counts.dropped += waiting.length;
    for (const write of waiting) write.reject(error);
  };

  /**
   * Records an earlier run left in the spill file go first. A torn last line is cut off. Returns
   * the hash of the last complete record, if any: new records link after it.
   */
  const resumeSpill = async (size: number): Promise<string | undefined> => {
    let line: string;
    try {
      const handle = await open(spillPath, 'a+');
      spillHandle = handle;
      const end = await endOfLastLine(handle, size);
      if (end < size) {
        await handle.truncate(end);
        await handle.datasync();
        warn({
          reason: 'spill_torn_line',
          message: `${spillPath} ended in an incomplete line (a spill cut short; its write never resolved): cut off`,
        });
      }
      spillSize = end;
      if (end === 0) return undefined;
      const lineStart = await endOfLastLine(handle, end - 1);
      line = (await readAt(handle, lineStart, end - 1 - lineStart)).toString('utf8');
    } catch (error) {
      throw cannotStart(spillPath, error);
    }
    // As in the JSONL sink: a chain is only extended from a record that verifies on its own.
    const checked = checkLine(line);
    if (!checked.ok) {
      throw new AuditError(
        'audit_chain_broken',
        `${spillPath}: its last record cannot be extended (${checked.message}), so the HTTP sink refuses every write. Run \`kvlar audit verify\` on it; moved aside, its records are not sent and the chain continues from ${headPath}.`,
      );
    }
    return checked.hash;
  };

  /** The head file's hash; undefined if there is none. Anything but a hash is refused. */
  const readHead = async (): Promise<string | undefined> => {
    let text: string;
    try {
      const handle = await open(headPath, 'r');
      try {
        // One byte more than a head holds, so a longer file is told apart.
        text = (await readAt(handle, 0, HEAD_BYTES + 1)).toString('latin1');
      } finally {
        await handle.close();
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw cannotStart(headPath, error);
    }
    if (!HEAD_PATTERN.test(text)) {
      throw new AuditError(
        'audit_chain_broken',
        `${headPath} is not a record hash (64 lower-case hex digits and a newline), so the HTTP sink cannot tell where its chain stands and refuses every write. Put back the hash of the last record the collector holds; or, to start a new chain from the genesis hash (the collector sees a new chain), delete it.`,
      );
    }
    return text.slice(0, 64);
  };

  const cannotStart = (path: string, error: unknown) =>
    new AuditError(
      'audit_write_failed',
      `cannot read ${path}, so the HTTP sink cannot tell where its chain stands and refuses every write`,
      { cause: error },
    );

  /**
   * Opens the head file for updates in place, making it name `hash` (where the chain starts). A
   * missing one is created complete (a temporary file renamed), so a crash never leaves it empty.
   */
  const openHead = async (hash: string, found: string | undefined) => {
    try {
      if (found === undefined) {
        await mkdir(dirname(headPath), { recursive: true });
        const temporary = `${headPath}.tmp`;
        const created = await open(temporary, 'w', 0o600);
        try {
          await appendAll(created, `${hash}\n`);
        } finally {
          await created.close();
        }
        await rename(temporary, headPath);
        await syncDirectory(dirname(headPath));
      }
      headHandle = await open(headPath, 'r+');
      // The spill file's records are durable and go first: the head moves past them now, so it
      // is right once they are delivered and the file emptied.
      if (found !== undefined && found !== hash) writeHead(hash);
    } catch (error) {
      headNotSaved(error);
    }
  };

  /** `item` is durable: the head file names it, unless it already names a later record. */
  const durable = (item: Item | undefined) => {
    if (item === undefined || item.seq <= headSeq) return;
    headSeq = item.seq;
    writeHead(item.hash);
  };

  /**
   * 65 bytes at offset 0 of a 65-byte file, before the records' writes resolve: a killed process
   * leaves the head current, and no crash leaves it torn or empty. Not fsynced (a disk flush per
   * batch): after a power loss it may name an older record, and the next run forks the chain
   * there, which verification shows; `close` flushes it.
   */
  const writeHead = (hash: string) => {
    if (headHandle === undefined) return;
    try {
      const bytes = Buffer.from(`${hash}\n`, 'latin1');
      const written = writeSync(headHandle.fd, bytes, 0, HEAD_BYTES, 0);
      if (written !== HEAD_BYTES) throw new Error(`wrote ${written} of ${HEAD_BYTES} bytes`);
      headFailing = false;
    } catch (error) {
      headNotSaved(error);
    }
  };

  const headNotSaved = (error: unknown) => {
    if (headFailing) return;
    headFailing = true;
    warn({
      reason: 'head_not_saved',
      message: `cannot write ${headPath}: a sink started after this one would not continue the chain from here (it would fork it at an older record, or start a new one)`,
      cause: error,
    });
  };

  const closeHead = async () => {
    const handle = headHandle;
    headHandle = undefined;
    if (handle === undefined) return;
    try {
      await handle.datasync();
    } catch (error) {
      headNotSaved(error);
    }
    await handle.close().catch(() => undefined);
  };

  const readSpillBatch = async (): Promise<Batch> => {
    const handle = spillHandle;
    if (handle === undefined) throw new Error('the spill file is not open');
    const available = spillSize - spillOffset;
    let want = Math.min(available, maxBatchBytes);
    for (;;) {
      const buffer = await readAt(handle, spillOffset, want);
      let end = 0;
      let count = 0;
      for (let at = buffer.indexOf(10); at !== -1 && count < maxBatchRecords; ) {
        end = at + 1;
        count++;
        at = buffer.indexOf(10, end);
      }
      // A record longer than maxBatchBytes: read on until its end, and send it alone.
      if (count === 0 && want < available) {
        want = Math.min(available, want * 2);
        continue;
      }
      if (count === 0) throw new Error(`${spillPath} changed under the sink`);
      return { source: 'spill', body: buffer.subarray(0, end), bytes: end, count };
    }
  };

  /** Empties the spill file once the collector has everything in it. */
  const truncateSpillIfDone = () =>
    onFile(async () => {
      if (spillSize === 0 || spillOffset !== spillSize || spillQueuedBytes !== 0) return;
      try {
        await spillHandle?.truncate(0);
        await spillHandle?.datasync();
        spillSize = spillOffset = 0;
      } catch (error) {
        warn({
          reason: 'spill_not_truncated',
          message: `cannot empty ${spillPath}; its records may be sent again after a restart`,
          cause: error,
        });
      }
    });

  const appendRejected = (body: string | Buffer) =>
    onFile(async (): Promise<unknown> => {
      try {
        if (rejectedHandle === undefined) {
          await mkdir(dirname(rejectedPath), { recursive: true });
          rejectedHandle = await open(rejectedPath, 'a');
        }
        await appendAll(rejectedHandle, body);
        return undefined;
      } catch (error) {
        return error;
      }
    });

  const post = async (body: string | Buffer): Promise<Attempt> => {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
    const onStop = () => controller.abort(new Error('the sink was closed'));
    stop.signal.addEventListener('abort', onStop);
    try {
      // Redirects are not followed: audit records (and an Authorization header) go to the
      // configured URL or nowhere.
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
        redirect: 'manual',
      });
      if (response.ok) {
        // Accepted once the status says so: a body that fails to arrive must not cause a resend.
        response.body?.cancel().catch(() => undefined);
        return { ok: true };
      }
      const text = (await response.text().catch(() => '')).slice(0, 300);
      const status = response.status;
      const message = `${url.href} answered ${status}${text === '' ? '' : `: ${text}`}`;
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        return {
          ok: false,
          permanent: false,
          message,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      }
      return { ok: false, permanent: true, message };
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      return {
        ok: false,
        permanent: false,
        message: `cannot reach ${url.href}: ${describe(reason)}`,
        cause: reason,
      };
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener('abort', onStop);
    }
  };

  const takeMemoryBatch = (): Batch => {
    const items: Item[] = [];
    let bytes = 0;
    for (const item of memory) {
      if (items.length >= maxBatchRecords) break;
      if (items.length > 0 && bytes + item.bytes > maxBatchBytes) break;
      items.push(item);
      bytes += item.bytes;
    }
    return { source: 'memory', items, body: items.map((item) => item.line).join('') };
  };

  const batchReady = (): number => {
    const head = memory[0];
    if (head === undefined) return Number.POSITIVE_INFINITY;
    if (closing || memory.length >= maxBatchRecords || memoryBytes >= maxBatchBytes) return 0;
    return Math.max(0, head.writtenAt + flushIntervalMs - performance.now());
  };

  /** Removes delivered (or refused) records from the head of memory. */
  const takeFromMemory = (items: readonly Item[]): Item[] => {
    const inMemory = items.filter((item) => item.state === 'memory');
    memory.splice(0, inMemory.length);
    for (const item of inMemory) memoryBytes -= item.bytes;
    if (memory.length === 0) clearDeadline();
    return inMemory;
  };

  const accepted = async (batch: Batch) => {
    if (outage) {
      outage = false;
      warn({ reason: 'collector_recovered', message: `${url.href} accepts audit records again` });
    }
    if (batch.source === 'spill') {
      spillOffset += batch.bytes;
      counts.resent += batch.count;
      await truncateSpillIfDone();
      return;
    }
    durable(batch.items.at(-1));
    for (const item of takeFromMemory(batch.items)) {
      item.state = 'done';
      item.resolve();
    }
    counts.sent += batch.items.length;
    // Records spilled while their request was in flight head the spill file; the collector has
    // them, so they are skipped there instead of sent twice.
    while (batch.items.some((item) => item.state === 'spilling')) await nextChange();
    let moved = false;
    for (const item of batch.items) {
      if (item.state === 'spilled') spillOffset += item.bytes;
      if (item.state === 'dropped') counts.dropped--;
      if (item.state !== 'done') moved = true;
      item.state = 'done';
    }
    if (moved) await truncateSpillIfDone();
  };

  /** A 4xx other than 408/429: kept in the rejected file, reported. False: try again later. */
  const refused = async (batch: Batch, message: string): Promise<boolean> => {
    const count = batch.source === 'spill' ? batch.count : batch.items.length;
    const refusal = new AuditError(
      'audit_collector_rejected',
      `${message} (${count} audit record(s) kept in ${rejectedPath})`,
    );
    if (batch.source === 'spill') {
      const error = await appendRejected(batch.body);
      if (error !== undefined) {
        // Still safe in the spill file: try the batch again later rather than lose it.
        fail(
          new AuditError('audit_write_failed', `cannot write ${rejectedPath}: ${message}`, {
            cause: error,
          }),
        );
        return false;
      }
      counts.failedBatches++;
      counts.rejected += batch.count;
      spillOffset += batch.bytes;
      fail(refusal);
      await truncateSpillIfDone();
      return true;
    }
    counts.failedBatches++;
    // Those already spilled meanwhile will be sent (and judged) again from the spill file.
    const items = takeFromMemory(batch.items);
    if (items.length === 0) return true;
    const error = await appendRejected(items.map((item) => item.line).join(''));
    if (error === undefined) {
      counts.rejected += items.length;
      fail(refusal);
      durable(items.at(-1));
      for (const item of items) {
        item.state = 'done';
        item.resolve();
      }
      return true;
    }
    const dropped = new AuditError(
      'audit_write_failed',
      `${message}; and ${items.length} audit record(s) could not be kept in ${rejectedPath}`,
      { cause: error },
    );
    counts.dropped += items.length;
    fail(dropped);
    for (const item of items) {
      item.state = 'done';
      item.reject(dropped);
    }
    return true;
  };

  const backOff = async (attempt: number, retryAfterMs: number | undefined) => {
    const exponential = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt, 30));
    // "Equal jitter": at least half the back-off, so retries never bunch at zero.
    const wait =
      retryAfterMs !== undefined
        ? Math.min(retryAfterMs, retryMaxMs)
        : exponential / 2 + (random() * exponential) / 2;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        // Unreferenced: what waits for a retry is in the spill file or has a deadline timer.
        timer = setTimeout(resolve, wait).unref();
      }),
      closingSignal,
    ]);
    clearTimeout(timer);
  };

  /** The one sender: a batch at a time, in order; spilled records before memory. */
  const pump = async () => {
    await onFile(start);
    if (failedClosed !== undefined) return;
    let attempt = 0;
    for (;;) {
      if (stopped) return;
      let batch: Batch;
      if (spillBacklog() > 0) {
        if (spillSize === spillOffset) {
          await nextChange(); // appends still on their way to the file
          continue;
        }
        try {
          batch = await onFile(readSpillBatch);
        } catch (error) {
          fail(
            new AuditError('audit_write_failed', `cannot read the spill file ${spillPath}`, {
              cause: error,
            }),
          );
          if (closing) return;
          await backOff(attempt++, undefined);
          continue;
        }
      } else if (memory.length === 0) {
        if (closing) return;
        await nextChange();
        continue;
      } else {
        const wait = batchReady();
        if (wait > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            nextChange(),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, wait);
            }),
          ]);
          clearTimeout(timer);
          continue;
        }
        batch = takeMemoryBatch();
      }

      const result = await post(batch.body);
      if (result.ok) {
        attempt = 0;
        await accepted(batch);
        continue;
      }
      if (stopped) return;
      if (result.permanent && (await refused(batch, result.message))) continue;
      if (!outage && !result.permanent) {
        outage = true;
        warn({ reason: 'collector_unavailable', message: result.message, cause: result.cause });
      }
      // Closing: what could not be delivered now is spilled, rather than waited for.
      if (closing) return;
      counts.retries++;
      await backOff(attempt++, result.retryAfterMs);
    }
  };
  const pumping = pump().catch((error: unknown) => {
    // A bug, not an outage: records still spill by their deadline, but nothing is sent any more.
    fail(
      new AuditError('audit_write_failed', `the HTTP sink stopped sending to ${url.href}`, {
        cause: error,
      }),
    );
  });

  return {
    get startHash() {
      return startHash;
    },
    get lastHash() {
      return recorder?.lastHash;
    },
    stats() {
      return { ...counts, buffered: memory.length + unlinked.length };
    },
    write(entry) {
      if (closed) return Promise.reject(sinkClosedError());
      if (failedClosed !== undefined) {
        counts.dropped++;
        return Promise.reject(failedClosed);
      }
      return new Promise<void>((resolve, reject) => {
        const writtenAt = performance.now();
        // Until start-up knows where the chain stands, nothing is linked.
        if (recorder === undefined) unlinked.push({ entry, writtenAt, resolve, reject });
        else link(recorder, entry, writtenAt, resolve, reject);
      });
    },
    close() {
      closePromise ??= (async () => {
        closed = true;
        closing = true;
        closingStarted();
        notify();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          pumping,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, closeTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        stopped = true;
        stop.abort();
        notify();
        await pumping;
        spillMemory('the sink is closing and the collector did not take them');
        while (spillDraining !== undefined) await spillDraining;
        await fileChain;
        await spillHandle?.close().catch(() => undefined);
        await rejectedHandle?.close().catch(() => undefined);
        await closeHead();
        // After the last append: a sink that starts now finds everything this one spilled.
        await lock?.release();
      })();
      return closePromise;
    },
  };
}

function parseUrl(value: string | URL): URL {
  try {
    return new URL(value);
  } catch (error) {
    throw new AuditError('invalid_input', `the HTTP sink's url is not a URL: ${String(value)}`, {
      cause: error,
    });
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new AuditError('invalid_input', `the HTTP sink's ${name} must be a positive number`);
  }
  return value;
}

/** `Retry-After`: seconds, or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, …) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

async function appendAll(handle: FileHandle, data: string | Buffer): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let offset = 0; offset < bytes.length; ) {
    offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
  }
  // As in the JSONL sink: the appended bytes and the new size are durable, not the timestamps.
  await handle.datasync();
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** The offset just after the file's last `\n` (0 if none), reading backwards in chunks. */
async function endOfLastLine(handle: FileHandle, size: number): Promise<number> {
  const chunk = 64 * 1024;
  for (let end = size; end > 0; end -= chunk) {
    const start = Math.max(0, end - chunk);
    const buffer = await readAt(handle, start, end - start);
    const at = buffer.lastIndexOf(10);
    if (at !== -1) return start + at + 1;
  }
  return 0;
}

/** Makes a new file's directory entry durable. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the file's own data is still synced.
  } finally {
    await handle.close();
  }
}
