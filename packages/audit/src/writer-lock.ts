/**
 * One writer per audit log. Two processes appending to one file would interleave two chains and
 * break both, so the JSONL sink holds `FILE.lock` (created exclusively, holding its pid and host)
 * for as long as it is open; the HTTP sink holds one on its spill file. A lock left by a process
 * that died (a crash, SIGKILL) on this host is taken over; a live holder is an error naming it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, readFile, readlink, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AuditError } from './errors.js';

export interface WriterLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** How the `audit_locked` error names the file and what to do instead of sharing it. */
export interface LockedFile {
  /** E.g. `the audit log`. */
  readonly what: string;
  /** Why one writer, and the remedy, e.g. `two writers would break its chain. Give each …`. */
  readonly advice: string;
}

const AUDIT_LOG: LockedFile = {
  what: 'the audit log',
  advice: 'two writers would break its chain. Give each proxy its own --audit file',
};

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

export async function acquireWriterLock(
  logPath: string,
  file: LockedFile = AUDIT_LOG,
): Promise<WriterLock> {
  // Named after the file, not after the name it was given: a log reached through a symlink
  // (`alias.jsonl -> audit.jsonl`, a linked directory) must meet the same lock.
  const path = `${await realLogPath(logPath)}.lock`;
  // A device (`/dev/null`, `/dev/full` in tests) has no chain to protect, and no place for a lock.
  const existing = await stat(logPath).catch(() => undefined);
  if (existing !== undefined && !existing.isFile()) return { path, release: async () => {} };
  // Wall-clock time, not the sink's injected clock: this is for a person reading the lock file.
  const mine: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  const unique = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  for (let attempt = 0; ; attempt++) {
    if (await createComplete(path, text, unique)) return lockFor(path, text);
    const seen = await readFile(path, 'utf8').catch(() => undefined);
    if (seen === undefined) continue; // released meanwhile: try again
    const owner = parseOwner(seen);
    if (owner !== undefined && (owner.host !== mine.host || isAlive(owner.pid))) {
      throw inUse(logPath, path, owner, file);
    }
    if (attempt >= MAX_TAKEOVER_ATTEMPTS) throw inUse(logPath, path, owner, file);
    // Its writer is gone (or the file is unreadable garbage): the lock is stale, and removed by
    // whichever racing process claims it first.
    await takeOverStale(path, seen);
  }
}

/**
 * The file a log path names, symlinks resolved (see `realLogPath`), so that its lock, its
 * rotated files and its readers all go by the file and not by one of its names: rotating
 * `alias.jsonl -> audit.jsonl` renames audit.jsonl, not the link. A path to something that is not
 * a regular file (`/dev/null`, `/dev/stdout`) is kept as given.
 */
export async function resolveLogPath(logPath: string): Promise<string> {
  const existing = await stat(logPath).catch(() => undefined);
  if (existing !== undefined && !existing.isFile()) return logPath;
  return realLogPath(logPath);
}

/** Symlinks a path can go through before we stop following (Linux's own limit). */
const MAX_SYMLINKS = 40;

/**
 * The path of the file `logPath` names, symlinks resolved. A log that does not exist yet is
 * where opening it will create it: through a dangling symlink, its target (itself resolved);
 * otherwise its name in its directory's real path.
 */
async function realLogPath(logPath: string): Promise<string> {
  let path = resolve(logPath);
  for (let hops = 0; hops < MAX_SYMLINKS; hops++) {
    try {
      return await realpath(path);
    } catch {
      // Missing (or unreadable): resolved by hand below.
    }
    const target = await readlink(path).catch(() => undefined);
    if (target === undefined) break;
    path = resolve(dirname(path), target);
  }
  const directory = await realpath(dirname(path)).catch(() => dirname(path));
  return join(directory, basename(path));
}

/** Enough for a few racing takeovers; a lock that keeps changing under us is someone's. */
const MAX_TAKEOVER_ATTEMPTS = 5;

/**
 * Creates `path` holding `text`, complete from its first moment: written under a unique name,
 * then hard-linked, which fails if `path` exists. A reader never sees a half-written lock.
 */
async function createComplete(path: string, text: string, unique: string): Promise<boolean> {
  await writeFile(unique, text, { flag: 'wx', mode: 0o600 });
  try {
    await link(unique, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    // A file system without hard links: create it in place (a reader may see it half-written).
    try {
      await writeFile(path, text, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (inPlace) {
      if ((inPlace as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inPlace;
    }
  } finally {
    await unlink(unique).catch(() => undefined);
  }
}

/**
 * Removes the stale lock `stale` from `path`, if it is still there. Racing processes each read
 * it as stale; only the one that creates its claim (a file named after its contents, created
 * exclusively) may look again and remove it, so a lock another racer took meanwhile is never
 * removed. Moving the stale lock aside instead, and putting back a live one moved by mistake,
 * left the name free for a moment, and a third process could take it then: two writers.
 *
 * Once the claim is gone, a late racer that claims the same stale lock finds something else at
 * `path` (a lock's contents, with its pid and start time, never come back) and leaves it.
 */
async function takeOverStale(path: string, stale: string): Promise<void> {
  const digest = createHash('sha256').update(stale).digest('hex').slice(0, 16);
  const claim = `${path}.takeover-${digest}`;
  try {
    await writeFile(claim, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process is taking it over: give it a moment before looking again.
    await new Promise((resolve) => setTimeout(resolve, CLAIM_WAIT_MS));
    return;
  }
  try {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current === stale) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** How long a racer waits while another takes a stale lock over (a few file operations). */
const CLAIM_WAIT_MS = 20;

function lockFor(path: string, text: string): WriterLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      // Only our own lock: a file someone replaced (after deleting ours by hand) is theirs.
      const current = await readFile(path, 'utf8').catch(() => undefined);
      if (current === text) await unlink(path).catch(() => undefined);
    },
  };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, host, since } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string') return undefined;
    return { pid, host, since: typeof since === 'string' ? since : 'an unknown time' };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(
  logPath: string,
  lockPath: string,
  owner: LockOwner | undefined,
  file: LockedFile,
): AuditError {
  const who =
    owner === undefined
      ? 'another writer'
      : `process ${owner.pid} on ${owner.host} (since ${owner.since})`;
  return new AuditError(
    'audit_locked',
    `${file.what} ${logPath} is being written by ${who}; ${file.advice}, ` +
      `or remove ${lockPath} if that process is gone.`,
  );
}
