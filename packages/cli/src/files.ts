import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const POLICY_FILE = /\.ya?ml$/;
const TEST_FILE = /\.test\.ya?ml$/;

/** `*.yaml` / `*.yml` directly in `dir`, except test files; sorted, absolute. */
export function policyFilesIn(dir: string): string[] {
  return entries(dir)
    .filter((entry) => POLICY_FILE.test(entry.name) && !TEST_FILE.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .filter(isFile)
    .sort(byCodePoint);
}

/**
 * `*.test.yaml` / `*.test.yml` anywhere under `dir`, sorted by path. Hidden directories and
 * `node_modules` are skipped, and symlinked directories not followed (no loops).
 */
export function testFilesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of entries(current)) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && entry.name !== 'node_modules') walk(path);
      } else if (TEST_FILE.test(entry.name) && isFile(path)) {
        found.push(path);
      }
    }
  };
  walk(dir);
  return found.sort(byCodePoint);
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Not localeCompare: the order must not depend on the machine's locale. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
