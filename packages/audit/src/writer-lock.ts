/**
 * One writer per audit log. Two processes appending to one file would interleave two chains and
 * break both, so the JSONL sink holds `FILE.lock` (created exclusively, holding its pid and host)
 * for as long as it is open. A lock left by a process that died (a crash, SIGKILL) on this host
 * is taken over; a live holder is an error naming it.
 */
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { AuditError } from './errors.js';

export interface WriterLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

export async function acquireWriterLock(logPath: string): Promise<WriterLock> {
  const path = `${logPath}.lock`;
  // A device (`/dev/null`, `/dev/full` in tests) has no chain to protect, and no place for a lock.
  const existing = await stat(logPath).catch(() => undefined);
  if (existing !== undefined && !existing.isFile()) return { path, release: async () => {} };
  // Wall-clock time, not the sink's injected clock: this is for a person reading the lock file.
  const mine: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, text, { flag: 'wx', mode: 0o600 });
      return lockFor(path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST')
          throw inUse(logPath, path, undefined);
        throw error;
      }
    }
    const owner = await readOwner(path);
    if (owner !== undefined && (owner.host !== mine.host || isAlive(owner.pid))) {
      throw inUse(logPath, path, owner);
    }
    // Its writer is gone (or the file is unreadable garbage): the lock is stale.
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

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

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
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

function inUse(logPath: string, lockPath: string, owner: LockOwner | undefined): AuditError {
  const who =
    owner === undefined
      ? 'another writer'
      : `process ${owner.pid} on ${owner.host} (since ${owner.since})`;
  return new AuditError(
    'audit_locked',
    `the audit log ${logPath} is being written by ${who}; two writers would break its chain. ` +
      `Give each proxy its own --audit file, or remove ${lockPath} if that process is gone.`,
  );
}
