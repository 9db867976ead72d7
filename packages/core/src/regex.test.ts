import { describe, expect, it } from 'vitest';
import { compileRegex } from './regex.js';

function search(pattern: string, text: string, ignoreCase = false): boolean {
  const compiled = compileRegex(pattern, { ignoreCase });
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.regex.test(text);
}

describe('policy regexes', () => {
  it('searches unanchored and case-sensitively by default', () => {
    expect(search('rm\\s+-rf', 'sudo rm  -rf /')).toBe(true);
    expect(search('rm\\s+-rf', 'RM -RF /')).toBe(false);
    expect(search('^/etc/', '/etc/passwd')).toBe(true);
    expect(search('^/etc/', '/home/etc/x')).toBe(false);
  });

  it('honours a leading (?i) and the ignoreCase option', () => {
    expect(search('(?i)drop\\s+table', 'DROP TABLE users')).toBe(true);
    expect(search('drop table', 'DROP TABLE users', true)).toBe(true);
  });

  it('reads \\d, \\w and \\s as Unicode classes, like the Rust regex crate', () => {
    expect(search('^\\d+$', '١٢٣')).toBe(true);
    expect(search('^\\w+$', 'héllo')).toBe(true);
    expect(search('a\\sb', 'a\u00a0b')).toBe(true);
    expect(search('a\\sb', 'a\u2003b')).toBe(true);
    expect(search('^\\D+$', '١')).toBe(false);
    expect(search('^[\\d]+$', '١٢')).toBe(true);
    expect(search('^[^\\d]$', 'x')).toBe(true);
  });

  it('keeps ASCII classes when the pattern turns Unicode off', () => {
    expect(search('(?-u)^\\d$', '١')).toBe(false);
  });

  it('leaves escapes inside \\Q…\\E and \\p{…} alone', () => {
    expect(search('\\Q\\d\\E', '\\d')).toBe(true);
    expect(search('\\p{Greek}', 'λ')).toBe(true);
    expect(search('[[:digit:]]', '5')).toBe(true);
  });

  it.each([
    ['(unclosed', 'missing closing )'],
    ['a{2,1001}', 'invalid repeat count'],
    ['(a)\\1', 'invalid escape'],
    ['(?=x)', 'invalid or unsupported Perl syntax'],
  ])('rejects %s with the reason', (pattern, why) => {
    const compiled = compileRegex(pattern);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) {
      expect(compiled.message).toContain(pattern);
      expect(compiled.message).toContain(why);
    }
  });

  it('runs a catastrophic-backtracking pattern over 100 KB of hostile text and answers', () => {
    const hostile = `${'a'.repeat(100_000)}!`;
    // (a+)+$ takes exponential time in a backtracking engine on this input.
    expect(search('(a+)+$', hostile)).toBe(false);
    expect(search('^(a|aa)*$', hostile)).toBe(false);
    expect(search('(.*a){12}', hostile)).toBe(true);
  });
});
