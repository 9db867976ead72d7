import { describe, expect, it } from 'vitest';
import { colorsWanted, createPainter } from './colors.js';

describe('colorsWanted', () => {
  it.each([
    ['a terminal', true, {}, true],
    ['a pipe', false, {}, false],
    ['a terminal with NO_COLOR', true, { NO_COLOR: '1' }, false],
    ['a terminal with an empty NO_COLOR', true, { NO_COLOR: '' }, true],
    ['a terminal with TERM=dumb', true, { TERM: 'dumb' }, false],
    ['a pipe with FORCE_COLOR', false, { FORCE_COLOR: '1' }, true],
    ['a pipe with FORCE_COLOR=0', false, { FORCE_COLOR: '0' }, false],
    ['FORCE_COLOR and NO_COLOR together', true, { FORCE_COLOR: '1', NO_COLOR: '1' }, false],
  ])('for %s is %s', (_name, isTTY, env, expected) => {
    expect(colorsWanted({ isTTY }, env)).toBe(expected);
  });
});

describe('createPainter', () => {
  it('wraps text in ANSI codes only when enabled', () => {
    expect(createPainter(true).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(createPainter(false).red('x')).toBe('x');
  });
});
