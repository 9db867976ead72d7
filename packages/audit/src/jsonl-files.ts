/**
 * The files of one audit chain on disk: the active file (`audit.jsonl`) and its rotated
 * predecessors (`audit-<UTC time>-<index>.jsonl`), ordered by index.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { AuditError } from './errors.js';
import { resolveLogPath } from './writer-lock.js';

const ROTATED = /^(?<stem>.+)-(?<stamp>\d{8}T\d{6}Z)-(?<index>\d{6,})(?<ext>\.[A-Za-z0-9]+)?$/;

interface RotatedName {
  readonly active: string;
  readonly index: number;
}

function parseRotated(fileName: string): RotatedName | undefined {
  const groups = ROTATED.exec(fileName)?.groups;
  if (groups?.stem === undefined || groups.index === undefined) return undefined;
  return { active: groups.stem + (groups.ext ?? ''), index: Number(groups.index) };
}

/** `audit.jsonl` → `audit-20250102T030405Z-000007.jsonl`. */
export function rotatedPath(activePath: string, index: number, at: Date): string {
  const ext = extname(activePath);
  const stem = basename(activePath, ext);
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return join(dirname(activePath), `${stem}-${stamp}-${String(index).padStart(6, '0')}${ext}`);
}

/** The active file a (possibly rotated) file belongs to. */
export function activePathOf(path: string): string {
  const rotated = parseRotated(basename(path));
  return rotated === undefined ? path : join(dirname(path), rotated.active);
}

export interface ChainFiles {
  readonly active: string;
  /** Rotated files, oldest first. */
  readonly rotated: readonly string[];
  readonly activeExists: boolean;
  /** The index the next rotated file takes. */
  readonly nextIndex: number;
}

/** The files of every chain in a directory (files ending `.jsonl`), by active path. */
export async function chainsInDirectory(directory: string): Promise<ChainFiles[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.jsonl')).sort();
  const actives = new Set(names.map((name) => parseRotated(name)?.active ?? name));
  return [...actives].sort().map((active) => groupChain(join(directory, active), names));
}

/** The files of the chain `activePath` heads (which need not exist yet). */
export async function chainOf(activePath: string): Promise<ChainFiles> {
  let names: string[];
  try {
    names = await readdir(dirname(activePath));
  } catch (error) {
    if (isNotFound(error)) names = [];
    else throw error;
  }
  return groupChain(activePath, names);
}

function groupChain(activePath: string, names: readonly string[]): ChainFiles {
  const directory = dirname(activePath);
  const activeName = basename(activePath);
  const rotated = names
    .map((name) => ({ name, parsed: parseRotated(name) }))
    .filter(({ parsed }) => parsed?.active === activeName)
    .sort((a, b) => (a.parsed?.index ?? 0) - (b.parsed?.index ?? 0));
  const lastIndex = rotated.at(-1)?.parsed?.index ?? 0;
  return {
    active: activePath,
    rotated: rotated.map(({ name }) => join(directory, name)),
    activeExists: names.includes(activeName),
    nextIndex: lastIndex + 1,
  };
}

export interface FileTail {
  readonly size: number;
  /** The last line that ends in a newline, without it. */
  readonly lastLine?: string;
  /** The file does not end in a newline: its last line was cut short. */
  readonly torn: boolean;
}

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

/** Reads a file's end only, so resuming a large log costs one record, not the whole file. */
export async function readTail(path: string): Promise<FileTail> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return { size, torn: false };
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    const torn = last[0] !== NEWLINE;
    const end = torn ? await newlineBefore(handle, size) : size - 1;
    if (end < 0) return { size, torn };
    const start = (await newlineBefore(handle, end)) + 1;
    const line = Buffer.alloc(end - start);
    await handle.read(line, 0, line.length, start);
    return { size, torn, lastLine: line.toString('utf8') };
  } finally {
    await handle.close();
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

/** The offset of the last newline before `position`, or -1. */
async function newlineBefore(handle: Handle, position: number): Promise<number> {
  const buffer = Buffer.alloc(CHUNK);
  let end = position;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    const found = buffer.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (found >= 0) return start + found;
    end = start;
  }
  return -1;
}

/** The 1-based number of a file's last (unterminated) line. */
export async function lastLineNumber(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    let newlines = 0;
    for await (const chunk of handle.createReadStream()) {
      for (const byte of chunk as Buffer) if (byte === NEWLINE) newlines++;
    }
    return newlines + 1;
  } finally {
    await handle.close();
  }
}

/** fsync a directory so a rename or a new file in it survives a power cut (POSIX only). */
export async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/** The chain a file belongs to, or every chain in a directory; unreadable is `invalid_input`. */
export async function chainsFor(pathOrDirectory: string): Promise<ChainFiles[]> {
  try {
    return (await stat(pathOrDirectory)).isDirectory()
      ? await chainsInDirectory(pathOrDirectory)
      : [await chainOf(activePathOf(await resolveLogPath(pathOrDirectory)))];
  } catch (error) {
    throw new AuditError('invalid_input', `cannot read ${pathOrDirectory}`, { cause: error });
  }
}
