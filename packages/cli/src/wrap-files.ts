/**
 * The file side of `kvlar wrap` / `unwrap`: read a client config as exact text, back it up
 * without ever overwriting an older backup, and replace it atomically with its mode kept.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { describeFsError } from './read-text.js';
import { decodeUtf8 } from './utf8.js';
import { writeNewFile } from './write-file.js';

export type ConfigRead =
  | { readonly ok: true; readonly text: string }
  | {
      readonly ok: false;
      readonly message: string;
      readonly line?: number;
      readonly column?: number;
    };

// Unlike utf8.ts's decoder, this one keeps a BOM: the file must come back byte for byte.
const exact = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function readConfig(path: string): ConfigRead {
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) return { ok: false, message: 'is not a regular file' };
    bytes = readFileSync(path);
  } catch (error) {
    return { ok: false, message: describeFsError(error) };
  }
  try {
    return { ok: true, text: exact.decode(bytes) };
  } catch {
    const decoded = decodeUtf8(bytes);
    if (decoded.ok) return { ok: false, message: 'the file is not UTF-8 text' };
    return { ok: false, message: decoded.message, line: decoded.line, column: decoded.column };
  }
}

/**
 * `claude_desktop_config.json` → `claude_desktop_config.pre-kvlar.json`, as the Rust kvlar named
 * it (`.pre-unwrap.json` before an unwrap). When that name is taken by a different backup, the
 * older one is kept and the next free `NAME.pre-kvlar.N.json` is used; a backup of the very same
 * bytes is reused. Returns the backup's path.
 *
 * The backup is written whole and flushed under a temporary name, then linked to its name: a full
 * disk or a crash never leaves a short file under the name people restore from, and a link (like
 * an exclusive create) never replaces what is there.
 */
export function backUp(path: string, text: string, kind: 'pre-kvlar' | 'pre-unwrap'): string {
  const name = basename(path);
  const extension = extname(name);
  const stem = extension === '' ? name : name.slice(0, -extension.length);
  const directory = dirname(path);
  const mode = statSync(path).mode & 0o777;
  const temporary = join(
    directory,
    `.${stem}.${kind}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  writeNewFile(temporary, text, mode);
  try {
    for (let n = 1; ; n++) {
      const backup = join(directory, `${stem}.${kind}${n === 1 ? '' : `.${n}`}.json`);
      try {
        placeNew(temporary, backup, text, mode);
        return backup;
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
        if (sameText(backup, text)) return backup;
      }
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Gives the complete file `temporary` the new name `target`; EEXIST if that name is taken. */
function placeNew(temporary: string, target: string, text: string, mode: number): void {
  try {
    linkSync(temporary, target);
  } catch (error) {
    if (!isCode(error, 'EPERM') && !isCode(error, 'ENOTSUP') && !isCode(error, 'ENOSYS')) {
      throw error;
    }
    // A file system without hard links: create it in place, removed again if the write fails.
    writeNewFile(target, text, mode);
  }
}

/**
 * Replaces the file at `path` with `text` through a temporary file and a rename, keeping its
 * mode. A symlink (a config kept in a dotfiles repository) is followed, not replaced. `expected`
 * is the text the edit was made from: if the file changed meanwhile (the client saved it),
 * nothing is written and an error says so.
 */
export function replaceConfig(path: string, expected: string, text: string): void {
  const target = realpathSync(path);
  const mode = statSync(target).mode & 0o7777;
  if (!sameText(target, expected)) {
    throw new ConfigChangedError(`${path} changed while kvlar was editing it; nothing written`);
  }
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    writeNewFile(temporary, text, mode);
    chmodSync(temporary, mode); // the umask may have taken bits away
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export class ConfigChangedError extends Error {
  override readonly name = 'ConfigChangedError';
}

function sameText(path: string, text: string): boolean {
  try {
    return readFileSync(path).equals(Buffer.from(text, 'utf8'));
  } catch {
    return false;
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
