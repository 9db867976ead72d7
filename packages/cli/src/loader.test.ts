import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileLoader } from './loader.js';

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvlar-loader-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('createFileLoader', () => {
  it('finds a built-in template by name and identifies it as builtin:NAME', () => {
    const builtinDir = fixture({ 'base.yaml': 'name: base', 'base.test.yaml': 'tests: []' });
    const cwd = fixture({});
    const loader = createFileLoader({ cwd, builtinDir });
    expect(loader.load('base', undefined)).toEqual({
      ok: true,
      file: 'builtin:base',
      text: 'name: base',
    });
  });

  it('does not offer test files or paths as templates', () => {
    const builtinDir = fixture({ 'base.yaml': 'name: base', 'base.test.yaml': 'tests: []' });
    const loader = createFileLoader({ cwd: fixture({}), builtinDir });
    expect(loader.load('base.test', undefined).ok).toBe(false);
    expect(loader.load('base.yaml', undefined).ok).toBe(false);
  });

  it('resolves what a built-in template extends relative to the template', () => {
    const builtinDir = fixture({ 'shared.yaml': 'name: shared' });
    const loader = createFileLoader({ cwd: fixture({}), builtinDir });
    expect(loader.load('./shared.yaml', 'builtin:other')).toMatchObject({
      ok: true,
      text: 'name: shared',
    });
  });

  it('resolves paths against the extending file, then the working directory', () => {
    const cwd = fixture({
      'a/p.yaml': 'p',
      'a/near.yaml': 'near',
      'near.yaml': 'far',
      'only-in-cwd.yaml': 'cwd',
    });
    const loader = createFileLoader({ cwd, builtinDir: undefined });
    expect(loader.load('near.yaml', join('a', 'p.yaml'))).toEqual({
      ok: true,
      file: join('a', 'near.yaml'),
      text: 'near',
    });
    expect(loader.load('only-in-cwd.yaml', join('a', 'p.yaml'))).toEqual({
      ok: true,
      file: 'only-in-cwd.yaml',
      text: 'cwd',
    });
  });

  it('turns a directory or a missing file into a message, not an exception', () => {
    const cwd = fixture({ 'dir/x.yaml': 'x' });
    const loader = createFileLoader({ cwd, builtinDir: undefined });
    expect(loader.load('dir', undefined)).toEqual({
      ok: false,
      message: 'dir: is a directory, not a file',
    });
    expect(loader.load('missing.yaml', undefined)).toEqual({
      ok: false,
      message: 'no such file (tried missing.yaml)',
    });
  });
});
