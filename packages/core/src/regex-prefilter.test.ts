import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRegex } from './regex.js';
import { requiredLiteral } from './regex-prefilter.js';

describe('the regex prefilter', () => {
  it.each([
    ['rm\\s+-rf', ['-rf'], false],
    ['(?i)DROP\\s+TABLE', ['table'], true],
    ['^/etc/', ['/etc/'], false],
    ['(?i)\\bsudo\\b', ['sudo'], true],
    ['a\\.b', ['a.b'], false],
    ['abc+d', ['ab'], false],
    ['x(yz)*hello', ['hello'], false],
    ['[abc]def{2}gh', ['de'], false],
    ['^/(proc|sys)/', ['/proc/', '/sys/'], false],
    ['(?i)\\.(PEM|key|env)$', ['.pem', '.key', '.env'], true],
    ['^https?://(localhost|127\\.0\\.0\\.1)', ['://localhost', '://127.0.0.1'], false],
    ['(ab|c)+x', ['x'], false],
  ])('finds what every match of %s contains', (source, anyOf, ignoreCase) => {
    expect(requiredLiteral(source)).toEqual({ anyOf, ignoreCase });
  });

  it.each([
    'a|b',
    'abc|def',
    '(?i)x(?-i)y',
    '\\Qabc\\E',
    'a{',
    '.*',
    '\\d+',
    '(a|b)*',
    '[abc]',
    'a?',
  ])('finds nothing it cannot be sure of in %s', (source) => {
    expect(requiredLiteral(source)).toBeUndefined();
  });

  it('never rejects a text the regex matches (against re2js alone)', () => {
    const piece = fc.constantFrom(
      'a',
      'b',
      'k',
      's',
      'K',
      'ſ',
      'K',
      '.',
      '\\.',
      '\\s',
      '\\b',
      '^',
      '$',
      '[ab]',
      '[^a]',
      '(a|b)',
      '(?:ab)',
      '(a|bs|)',
      '(?:k|ſ)',
      '(é|a)',
      '(a|\\.)',
      '(a|b)?',
      '(?i:ks)',
      '*',
      '+',
      '?',
      '{2}',
      '{1,2}',
      '|',
      'ab',
      'é',
      '\\d',
      '\\w',
      '-',
      '/',
    );
    const pattern = fc
      .tuple(
        fc.constantFrom('', '(?i)', '(?s)', '(?is)'),
        fc.array(piece, { minLength: 1, maxLength: 8 }),
      )
      .map(([flags, parts]) => flags + parts.join(''));
    const text = fc
      .array(
        fc.constantFrom(
          'a',
          'b',
          'A',
          'B',
          'k',
          'K',
          'K',
          's',
          'S',
          'ſ',
          '.',
          ' ',
          'é',
          'É',
          '1',
          '-',
          '/',
          '\n',
        ),
        { maxLength: 10 },
      )
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(
        pattern,
        fc.array(text, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (source, texts, ignoreCase) => {
          const filtered = compileRegex(source, { ignoreCase });
          const plain = compileRegex(source, { ignoreCase, prefilter: false });
          if (!filtered.ok || !plain.ok) return; // not a valid pattern: nothing to compare
          for (const sample of texts)
            expect(filtered.regex.test(sample)).toBe(plain.regex.test(sample));
        },
      ),
      { seed: 7, numRuns: 20_000 },
    );
  });
});

describe('case folding under (?i)', () => {
  it('folds onto ASCII letters exactly the non-ASCII characters the prefilter sends to re2js', async () => {
    // Guards a re2js upgrade: a new fold would let the prefilter skip a real match.
    const { RE2JS } = await import('re2js');
    const folds: string[] = [];
    for (const letter of 'abcdefghijklmnopqrstuvwxyz') {
      const folded = RE2JS.compile(`(?i)${letter}`);
      for (let code = 0x80; code <= 0x10ffff; code++) {
        if (code >= 0xd800 && code <= 0xdfff) continue;
        if (folded.test(String.fromCodePoint(code))) folds.push(`${letter}:U+${code.toString(16)}`);
      }
    }
    expect(folds).toEqual(['k:U+212a', 's:U+17f']);
    // And JavaScript's non-Unicode `i` folds no non-ASCII character onto an ASCII letter.
    for (let code = 0x80; code <= 0xffff; code++) {
      expect(/^[a-z]$/i.test(String.fromCharCode(code))).toBe(false);
    }
  }, 60_000);
});

describe('exact literal patterns', () => {
  it.each([
    ['^/etc/', '/etc/passwd', true],
    ['^/etc/', '/home/etc/', false],
    ['\\.pem$', 'key.pem', true],
    ['\\.pem$', 'key.pem\n', false],
    ['^exact$', 'exact', true],
    ['^exact$', 'exactly', false],
    ['rm -rf', 'sudo rm -rf /', true],
  ])('decides %s on %j without the regex engine, as it would', (source, text, expected) => {
    const fast = compileRegex(source);
    const slow = compileRegex(source, { prefilter: false });
    expect(fast.ok && fast.regex.test(text)).toBe(expected);
    expect(slow.ok && slow.regex.test(text)).toBe(expected);
  });
});
