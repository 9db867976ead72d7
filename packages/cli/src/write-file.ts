import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Creates `path` (it must not exist) holding `data`, flushed to disk before this returns. If any
 * step fails (a full disk, a size limit) the file is removed again: there is never a short file
 * under the name. `mode` applies on creation, less the umask.
 */
export function writeNewFile(path: string, data: string | Uint8Array, mode = 0o666): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(path, 'wx', mode);
  try {
    for (let offset = 0; offset < bytes.length; ) {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
}

/**
 * Writes `text` to `path` through a temporary file in the same directory and a rename, so a
 * reader never sees half a file and a failed write leaves the old one in place. `mode` is the
 * new file's (default 0666 less the umask; an audit export passes 0600).
 */
export function writeFileAtomic(path: string, text: string, options: { mode?: number } = {}): void {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    writeNewFile(temporary, text, options.mode);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
