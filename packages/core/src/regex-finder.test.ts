import { describe, expect, it } from 'vitest';
import { compileFinder, type RegexFinder } from './regex.js';

function finder(source: string): RegexFinder {
  const compiled = compileFinder(source);
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.finder;
}

const texts = (source: string, text: string) =>
  finder(source)
    .spans(text)
    .map(({ start, end }) => text.slice(start, end));

describe('compileFinder', () => {
  it('finds every match, left to right, in UTF-16 offsets', () => {
    const text = 'é🙂 EMP-123456, EMP-654321';
    expect(finder('EMP-[0-9]{6}').spans(text)).toEqual([
      { start: 4, end: 14 },
      { start: 16, end: 26 },
    ]);
  });

  it('gives the secret group when there is one, in either spelling', () => {
    expect(texts('token=(?P<secret>[a-z0-9]+)', 'a token=abc1 b token=zz9')).toEqual([
      'abc1',
      'zz9',
    ]);
    expect(texts('key: (?<secret>\\S+)', 'key: s3cr3t')).toEqual(['s3cr3t']);
    // An alternative without the group: the whole match.
    expect(texts('pin=(?P<secret>\\d{4})|PIN\\d{4}', 'pin=1234 PIN9876')).toEqual([
      '1234',
      'PIN9876',
    ]);
  });

  it('skips empty matches', () => {
    expect(finder('x*').spans('abxxc')).toEqual([{ start: 2, end: 4 }]);
  });

  it('reads \\d as the policy syntax does: Unicode digits, unless (?-u)', () => {
    expect(texts('ID\\d{3}', 'ID٣٤٥ ID345')).toEqual(['ID٣٤٥', 'ID345']);
    expect(texts('(?-u)ID\\d{3}', 'ID٣٤٥ ID345')).toEqual(['ID345']);
  });

  it('names the regex and the problem when it does not compile', () => {
    expect(compileFinder('a(b')).toEqual({
      ok: false,
      message: expect.stringMatching(/^invalid regex "a\(b": missing closing \)/),
    });
    // A backreference is what makes backtracking engines slow: RE2 has none.
    expect(compileFinder('(a)\\1').ok).toBe(false);
  });

  it('runs a pattern that backtracking engines take forever on, over 100 KB, at once', () => {
    const hostile = `${'a'.repeat(100_000)}!`;
    // /(a+)+b/ on this text does not finish in JavaScript's engine.
    expect(finder('(a+)+b').spans(hostile)).toEqual([]);
    expect(finder('(?P<secret>(a|aa)+)!').spans(hostile)).toEqual([{ start: 0, end: 100_000 }]);
  });
});
