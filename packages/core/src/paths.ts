/**
 * Lexical path normalisation for `path_under` / `path_not_under`. Purely textual (no file system,
 * no symlinks): `.` and empty segments vanish, `..` removes the segment before it, and `\` counts
 * as a separator too, so a Windows-style `..\` cannot climb out unseen.
 */

/** `.`/`..` segments, doubled or trailing slashes, backslashes, a drive: what normalising changes. */
const NEEDS_WORK = /\\|\/\/|(^|\/)\.\.?(\/|$)|.\/$|^[A-Za-z]:/;

let lastPath = '';
let lastNormalized = '.';

/**
 * The path as `path_under` compares it: `/srv/data/../etc//x/` becomes `/srv/etc/x`; a relative
 * path stays relative.
 */
export function normalizePath(path: string): string {
  // Several conditions usually test one path in a row: keep the last answer.
  if (path === lastPath) return lastNormalized;
  // Most paths are already normal; the common case costs one linear regex test.
  const normalized = path !== '' && !NEEDS_WORK.test(path) ? path : normalizeFully(path);
  lastPath = path;
  lastNormalized = normalized;
  return normalized;
}

/** The normalisation itself, for any path (exported for the test that checks the shortcut). */
export function normalizeFully(path: string): string {
  let unified = path.replaceAll('\\', '/');
  // A drive (`C:/`) is a root like `/`: `C:/../Windows` is `C:/Windows`, not `Windows`.
  const drive = /^[A-Za-z]:\//.test(unified) ? unified.slice(0, 2) : '';
  if (drive !== '') unified = unified.slice(2);
  const absolute = unified.startsWith('/');
  const segments: string[] = [];
  for (const segment of unified.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length > 0 && segments.at(-1) !== '..') segments.pop();
      else if (!absolute) segments.push('..');
      continue;
    }
    segments.push(segment);
  }
  const joined = segments.join('/');
  if (absolute) return `${drive}/${joined}`;
  return joined === '' ? '.' : joined;
}

/** A policy's base directory must be absolute: `/srv/data`, or a drive such as `C:/data`. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(path);
}

/** Both arguments already normalised. `/srv/database` is not under `/srv/data`. */
export function isUnder(path: string, base: string): boolean {
  if (base === '/') return path.startsWith('/');
  return path === base || path.startsWith(`${base}/`);
}
