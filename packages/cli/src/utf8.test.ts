import { describe, expect, it } from 'vitest';
import { decodeUtf8, firstInvalidByte } from './utf8.js';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 and drops a leading BOM', () => {
    const text = new TextEncoder().encode('\ufeffname: café ✓ 𝄞');
    expect(decodeUtf8(text)).toEqual({ ok: true, text: 'name: café ✓ 𝄞' });
  });

  it('points at the line and column of the first invalid byte', () => {
    const text = new TextEncoder().encode('a: 1\nbé: ');
    const result = decodeUtf8(new Uint8Array([...text, 0xc3, 0x28]));
    expect(result).toEqual({
      ok: false,
      message: 'the file is not UTF-8 text (byte 0xc3 at offset 10)',
      line: 2,
      column: 5,
    });
  });

  it('recognises UTF-16 by its byte order mark', () => {
    const result = decodeUtf8(bytes(0xff, 0xfe, 0x6e, 0x00));
    expect(result).toMatchObject({
      ok: false,
      message: 'the file is UTF-16 text; save it as UTF-8',
    });
  });
});

describe('firstInvalidByte', () => {
  it.each([
    ['a lone continuation byte', [0x61, 0x80], 1],
    ['an overlong two-byte sequence', [0xc0, 0xaf], 0],
    ['an overlong three-byte sequence', [0xe0, 0x80, 0xaf], 0],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80], 0],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a sequence cut short by the end', [0x61, 0xe2, 0x82], 1],
    ['a byte that never appears in UTF-8', [0x61, 0x62, 0xff], 2],
  ])('finds %s', (_name, input, offset) => {
    expect(firstInvalidByte(new Uint8Array(input))).toBe(offset);
  });

  it('accepts the largest code point and returns the length for valid input', () => {
    expect(firstInvalidByte(bytes(0xf4, 0x8f, 0xbf, 0xbf))).toBe(4);
  });
});
