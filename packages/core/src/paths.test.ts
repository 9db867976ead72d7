import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAbsolutePath, isUnder, normalizeFully, normalizePath } from './paths.js';

describe('path normalisation', () => {
  it.each([
    ['/srv/data', '/srv/data'],
    ['/srv/data/', '/srv/data'],
    ['/srv//data///x', '/srv/data/x'],
    ['/srv/./data/.', '/srv/data'],
    ['/srv/data/../etc', '/srv/etc'],
    ['/srv/data/../../../../etc', '/etc'],
    ['/', '/'],
    ['/..', '/'],
    ['a/b/../c', 'a/c'],
    ['../x', '../x'],
    ['./', '.'],
    ['\\srv\\data\\..\\etc', '/srv/etc'],
    ['C:\\Users\\me\\..\\you', 'C:/Users/you'],
    ['C:/../Windows/System32', 'C:/Windows/System32'],
    ['c:\\..\\..\\x', 'c:/x'],
  ])('%s becomes %s', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it('keeps /srv/database and /srv/data/../etc out of /srv/data', () => {
    const base = normalizePath('/srv/data');
    expect(isUnder(normalizePath('/srv/data'), base)).toBe(true);
    expect(isUnder(normalizePath('/srv/data/a/b'), base)).toBe(true);
    expect(isUnder(normalizePath('/srv/database'), base)).toBe(false);
    expect(isUnder(normalizePath('/srv/data/../etc'), base)).toBe(false);
    expect(isUnder(normalizePath('/srv/data/x/../../data2'), base)).toBe(false);
  });

  it('puts every absolute path under /', () => {
    expect(isUnder('/anything', '/')).toBe(true);
    expect(isUnder('relative', '/')).toBe(false);
  });

  it('recognises absolute paths, POSIX and Windows', () => {
    expect(isAbsolutePath('/srv')).toBe(true);
    expect(isAbsolutePath('C:/data')).toBe(true);
    expect(isAbsolutePath('c:\\data')).toBe(true);
    expect(isAbsolutePath('data')).toBe(false);
    expect(isAbsolutePath('~/data')).toBe(false);
  });

  it('takes its shortcut only for paths that are already normal', () => {
    const part = fc.constantFrom('a', 'b', '.', '..', '', '\\', 'C:', 'x.y', '...');
    const path = fc.array(part, { maxLength: 6 }).map((parts) => parts.join('/'));
    fc.assert(
      fc.property(path, (input) => {
        expect(normalizePath(input)).toBe(normalizeFully(input));
        expect(normalizePath(normalizePath(input))).toBe(normalizePath(input));
      }),
      { seed: 11, numRuns: 5000 },
    );
  });
});
