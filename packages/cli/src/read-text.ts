import { readFileSync, statSync } from 'node:fs';
import { decodeUtf8 } from './utf8.js';

export type ReadResult =
  | { readonly ok: true; readonly text: string }
  | {
      readonly ok: false;
      readonly code: 'unreadable_file' | 'not_utf8';
      readonly message: string;
      readonly line?: number;
      readonly column?: number;
    };

/** Policies and test files are small; a cap keeps `-p /dev/zero` or a stray dump from hanging us. */
const MAX_BYTES = 16 * 1024 * 1024;

/** Reads a UTF-8 text file. Never throws: every failure is a message for the user. */
export function readTextFile(path: string): ReadResult {
  let bytes: Uint8Array;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) return unreadable('is a directory, not a file');
    if (!stat.isFile()) return unreadable('is not a regular file');
    if (stat.size > MAX_BYTES) {
      return unreadable(`is larger than ${MAX_BYTES / 1024 / 1024} MiB`);
    }
    bytes = readFileSync(path);
  } catch (error) {
    return unreadable(describeFsError(error));
  }
  const decoded = decodeUtf8(bytes);
  if (decoded.ok) return decoded;
  const { message, line, column } = decoded;
  return { ok: false, code: 'not_utf8', message, line, column };
}

function unreadable(message: string): ReadResult {
  return { ok: false, code: 'unreadable_file', message };
}

export function describeFsError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
