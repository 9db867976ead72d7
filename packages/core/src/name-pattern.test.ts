import { describe, expect, it } from 'vitest';
import { compileNamePattern, nameMatches } from './name-pattern.js';

function matches(pattern: string, value: string): boolean {
  const compiled = compileNamePattern(pattern);
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.pattern.test(value);
}

describe('name patterns', () => {
  // The vectors the Rust Kvlar's own tests pinned down.
  it.each([
    ['read_*', 'read_file', true],
    ['read_*', 'read_', true],
    ['read_*', 'read_text_file', true],
    ['read_*', 'write_file', false],
    ['read_*', 'pre_read_file', false],
    ['?ead', 'read', true],
    ['?ead', 'bread', false],
    ['[abc]_file', 'a_file', true],
    ['[abc]_file', 'd_file', false],
    ['exact', 'exact', true],
    ['exact', 'not_exact', false],
    ['file.txt', 'file.txt', true],
    ['file.txt', 'filextxt', false],
    ['db_?', 'db_x', true],
    ['db_?', 'db_xy', false],
    ['log_[abc]', 'log_b', true],
    ['log_[abc]', 'log_d', false],
    ['trusted-*', 'trusted-agent-1', true],
    ['trusted-*', 'untrusted', false],
    ['file_*', 'file_read', true],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(matches(pattern, value)).toBe(expected);
  });

  it('lets * run over slashes and dots, as the Rust patterns did', () => {
    expect(matches('*', 'a/b.c')).toBe(true);
    expect(matches('mcp__*__read', 'mcp__fs/x.y__read')).toBe(true);
  });

  it('treats regex metacharacters other than * ? [ as literals', () => {
    for (const literal of ['a+b', 'a(b)', 'a{1}', 'a|b', 'a^b$', 'a\\b', 'a.b']) {
      expect(matches(`${literal}*`, `${literal}x`)).toBe(true);
    }
    expect(matches('a+b*', 'aab')).toBe(false);
    expect(matches('a.b*', 'axb')).toBe(false);
  });

  it('compares names without metacharacters exactly and case-sensitively', () => {
    expect(matches('bash', 'bash')).toBe(true);
    expect(matches('bash', 'Bash')).toBe(false);
    expect(matches('bash', 'basher')).toBe(false);
    expect(matches('Read_*', 'read_file')).toBe(false);
  });

  it('supports negated classes with ! and ^, and ranges', () => {
    expect(matches('[!abc]_x', 'd_x')).toBe(true);
    expect(matches('[!abc]_x', 'a_x')).toBe(false);
    expect(matches('[^abc]_x', 'a_x')).toBe(false);
    expect(matches('v[0-9]', 'v7')).toBe(true);
    expect(matches('v[0-9]', 'vx')).toBe(false);
    expect(matches('[a-]x', '-x')).toBe(true);
  });

  it('never lets * or ? match a newline, as the regex they became in Rust did not', () => {
    expect(matches('read_*', 'read_\nfile')).toBe(false);
    expect(matches('a?c', 'a\nc')).toBe(false);
    expect(matches('a*b*c', 'a\nbc')).toBe(false);
    expect(matches('[!x]', '\n')).toBe(true);
  });

  it('counts ? as one character even outside the Basic Multilingual Plane', () => {
    expect(matches('tool_?', 'tool_😀')).toBe(true);
    expect(matches('tool_??', 'tool_😀')).toBe(false);
  });

  it('treats __proto__ and constructor as plain names', () => {
    expect(matches('__proto__', '__proto__')).toBe(true);
    expect(matches('constructor', 'toString')).toBe(false);
    expect(matches('__*__', '__proto__')).toBe(true);
  });

  it.each([
    ['[abc', 'unclosed'],
    ['x[]', 'empty'],
    ['[z-a]', 'reversed range'],
    ['[a\\]]', 'unsupported'],
  ])('rejects the invalid glob %s', (pattern, why) => {
    const compiled = compileNamePattern(pattern);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.message).toContain(why);
  });

  it('matches a hostile 100 KB name against many stars in linear time', () => {
    const hostile = 'a'.repeat(100_000);
    // A backtracking translation of this pattern takes minutes on this input.
    expect(matches('*a*a*a*a*a*a*a*b', hostile)).toBe(false);
    expect(matches('*a*a*a*a*a*a*a*', hostile)).toBe(true);
  });
});

describe('name patterns beyond the Basic Multilingual Plane', () => {
  it('keeps surrogate pairs whole in the literal prefix and suffix checks', () => {
    expect(matches('?x😀', 'ax😀')).toBe(true);
    expect(matches('?x😀', 'ax😁')).toBe(false);
    expect(matches('😀[ab]', '😀a')).toBe(true);
    expect(matches('😀[ab]', '😁a')).toBe(false);
  });
});

describe('nameMatches, the inline path the engine uses', () => {
  it('agrees with test() on every pattern shape', () => {
    const patterns = [
      'bash',
      'read_*',
      '*_file',
      'a*z',
      '*',
      '?x*',
      '[ab]*',
      'db_?',
      'x*y*z',
      '😀*',
      '*😀',
    ];
    const values = [
      'bash',
      'read_file',
      'read_',
      'read_\nx',
      'x_file',
      'az',
      'a\nz',
      '',
      'ax',
      'bx1',
      'db_1',
      'xyz',
      'x\nyz',
      '😀a',
      'a😀',
      'read',
    ];
    for (const source of patterns) {
      const compiled = compileNamePattern(source);
      if (!compiled.ok) throw new Error(compiled.message);
      for (const value of values) {
        expect(nameMatches(compiled.pattern, value), `${source} vs ${JSON.stringify(value)}`).toBe(
          compiled.pattern.test(value),
        );
      }
    }
  });
});
