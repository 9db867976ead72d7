/**
 * Tailing an audit log: the records already there (rotated files oldest first, then the active
 * file), then, each time the caller polls, the complete lines appended since. The caller owns the
 * timing (an interval, fs.watch), so this module holds no timers.
 */
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { AuditError } from './errors.js';
import { chainOf, chainsFor, isNotFound } from './jsonl-files.js';
import {
  type AuditRecord,
  type ParsedRecords,
  parseRecordLine,
  parseRecords,
  type SkippedLine,
} from './records.js';

export interface AuditTail {
  /** Files read for `records`, in order. */
  readonly files: readonly string[];
  /** Every record already in the log, in file order. */
  readonly records: readonly AuditRecord[];
  readonly skipped: readonly SkippedLine[];
  /**
   * The records completed since the last call. A line without its newline yet is held until the
   * newline arrives; when the active file has been renamed aside (rotated), the rest of it is read
   * and the new active file is followed from its start.
   */
  poll(): Promise<ParsedRecords>;
  close(): Promise<void>;
}

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

/** Opens the log of `pathOrDirectory` (a file's chain, or every chain in a directory) for tailing. */
export async function openAuditTail(pathOrDirectory: string): Promise<AuditTail> {
  const chains = await chainsFor(pathOrDirectory);
  const followers: ActiveFile[] = [];
  const files: string[] = [];
  const records: AuditRecord[] = [];
  const skipped: SkippedLine[] = [];
  try {
    for (const { active } of chains) {
      // The active file is opened before the rotated files are listed: a rotation in between
      // then shows up as a rotated file that is the one already open, and is not read twice.
      const follower = await ActiveFile.open(active);
      followers.push(follower);
      const { rotated } = await chainOf(active);
      for (const file of rotated) {
        if (await follower.isFile(file)) continue;
        const parsed = parseRecords(await readText(file), { file, wholeFile: true });
        files.push(file);
        for (const item of parsed.records) records.push(item);
        for (const item of parsed.skipped) skipped.push(item);
      }
      if (follower.isOpen) files.push(active);
      const parsed = await follower.poll();
      for (const item of parsed.records) records.push(item);
      for (const item of parsed.skipped) skipped.push(item);
    }
  } catch (error) {
    await Promise.all(followers.map((follower) => follower.close()));
    throw error instanceof AuditError
      ? error
      : new AuditError('invalid_input', `cannot read ${pathOrDirectory}`, { cause: error });
  }
  return {
    files,
    records,
    skipped,
    async poll() {
      const found: AuditRecord[] = [];
      const lost: SkippedLine[] = [];
      for (const follower of followers) {
        const parsed = await follower.poll();
        for (const item of parsed.records) found.push(item);
        for (const item of parsed.skipped) lost.push(item);
      }
      return { records: found, skipped: lost };
    },
    async close() {
      await Promise.all(followers.map((follower) => follower.close()));
    },
  };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new AuditError('invalid_input', `cannot read ${file}`, { cause: error });
  }
}

interface Identity {
  readonly dev: number;
  readonly ino: number;
}

/** The active file of one chain, read from where the last poll stopped. */
class ActiveFile {
  private handle: FileHandle | undefined;
  private identity: Identity | undefined;
  private offset = 0;
  private line = 0;
  /** Bytes after the last newline: a line still being written. */
  private pending: Buffer = Buffer.alloc(0);

  private constructor(private readonly path: string) {}

  static async open(path: string): Promise<ActiveFile> {
    const file = new ActiveFile(path);
    await file.reopen();
    return file;
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  async isFile(path: string): Promise<boolean> {
    if (this.identity === undefined) return false;
    const other = await stat(path);
    return sameFile(other, this.identity);
  }

  async poll(): Promise<ParsedRecords> {
    let current: Identity & { readonly size: number };
    try {
      current = await stat(this.path);
    } catch (error) {
      // Renamed aside and not yet re-created: finish the old file, wait for the new one.
      if (!isNotFound(error)) throw error;
      return this.read();
    }
    if (this.identity === undefined) {
      await this.reopen();
      return this.read();
    }
    if (!sameFile(current, this.identity)) {
      // Rotated: the writer renamed the file before writing to a new one, so the old file is
      // complete now. Read its rest, then any files rotated since (several rotations can happen
      // between two polls), then the new file from its beginning.
      const old = this.identity;
      const parts = [await this.read()];
      await this.reopen();
      for (const file of await this.rotatedSince(old)) {
        parts.push(parseRecords(await readText(file), { file, wholeFile: true }));
      }
      parts.push(await this.read());
      return {
        records: parts.flatMap((part) => part.records),
        skipped: parts.flatMap((part) => part.skipped),
      };
    }
    if (current.size < this.offset) {
      // Truncated in place: start again from the beginning.
      this.offset = 0;
      this.line = 0;
      this.pending = Buffer.alloc(0);
    }
    return this.read();
  }

  /** Rotated files newer than `old` and older than the file now open, oldest first. */
  private async rotatedSince(old: Identity): Promise<string[]> {
    const { rotated } = await chainOf(this.path);
    const newer: string[] = [];
    // Newest first, so a long history of rotated files is not stat-ed at every rotation.
    for (const file of [...rotated].reverse()) {
      let identity: Identity;
      try {
        identity = await stat(file);
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      if (sameFile(identity, old)) return newer.reverse();
      if (this.identity === undefined || !sameFile(identity, this.identity)) newer.push(file);
      else newer.length = 0;
    }
    // The old file is gone (deleted, not rotated): what came after it cannot be told apart.
    return [];
  }

  async close(): Promise<void> {
    const { handle } = this;
    this.handle = undefined;
    this.identity = undefined;
    await handle?.close();
  }

  private async reopen(): Promise<void> {
    await this.close();
    this.offset = 0;
    this.line = 0;
    // A torn line left in a rotated file will never be completed.
    this.pending = Buffer.alloc(0);
    try {
      this.handle = await open(this.path, 'r');
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    this.identity = await this.handle.stat();
  }

  /** The complete lines from `offset` to the end of the open file. */
  private async read(): Promise<ParsedRecords> {
    const { handle } = this;
    const records: AuditRecord[] = [];
    const skipped: SkippedLine[] = [];
    if (handle === undefined) return { records, skipped };
    const buffer = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      let data = Buffer.concat([this.pending, buffer.subarray(0, bytesRead)]);
      for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE)) {
        this.line++;
        const text = data.subarray(0, end).toString('utf8');
        data = data.subarray(end + 1);
        const line = text.endsWith('\r') ? text.slice(0, -1) : text;
        if (line.trim() === '') continue;
        const parsed = parseRecordLine(line);
        if (parsed.ok) records.push(parsed.record);
        else skipped.push({ file: this.path, line: this.line, message: parsed.message });
      }
      this.pending = Buffer.from(data);
    }
    return { records, skipped };
  }
}

function sameFile(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
