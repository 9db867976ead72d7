import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * How a file is named in messages and in cycle detection: relative to the working directory when
 * inside it (what the user typed, tidied), else absolute. One spelling per file, so that
 * `a.yaml`, `./a.yaml` and `sub/../a.yaml` are recognised as the same policy.
 */
export function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  if (rel === '') return '.';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return absolute;
  return rel;
}

/** The absolute path for a name given on the command line. */
export function absoluteFrom(cwd: string, path: string): string {
  return resolve(cwd, path);
}

export type PathKind = 'file' | 'directory' | 'missing' | 'other';

export function kindOf(path: string): PathKind {
  try {
    const stat = statSync(path);
    if (stat.isFile()) return 'file';
    if (stat.isDirectory()) return 'directory';
    return 'other';
  } catch {
    return 'missing';
  }
}
