import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzSettings } from '../test/fuzz-runs.js';
import { LineParts, partsAreUtf8 } from './line-parts.js';

/** `bytes` cut at `cuts` (positions, in any order, repeats and ends allowed). */
function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((at) => at % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let previous = 0;
  for (const offset of [...offsets, bytes.length]) {
    parts.push(bytes.subarray(previous, offset));
    previous = offset;
  }
  return parts;
}

/** Every way of cutting `bytes` once, and into single bytes. */
function everyCut(bytes: Buffer): Buffer[][] {
  const ways = [[bytes], cut(bytes, [...bytes.keys()])];
  for (let at = 1; at < bytes.length; at++) ways.push(cut(bytes, [at]));
  return ways;
}

describe('LineParts', () => {
  it('reads bytes by position across parts as one Buffer would, forwards and back', () => {
    const whole = Buffer.from('{"a":"x\\"y","é":[1,2]}');
    for (const parts of everyCut(whole)) {
      const line = new LineParts(parts);
      expect(line.length).toBe(whole.length);
      const forwards = [...whole.keys()].map((at) => line.at(at));
      const backwards = [...whole.keys()].reverse().map((at) => line.at(at));
      expect(forwards).toEqual([...whole]);
      expect(backwards).toEqual([...whole].reverse());
      expect([line.at(-1), line.at(whole.length)]).toEqual([undefined, undefined]);
      expect(line.join().equals(whole)).toBe(true);
    }
  });

  it('finds bytes, decodes spans and copies slices as Buffer does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (bytes, cuts, a, b, byte) => {
          const whole = Buffer.from(bytes);
          const line = new LineParts(cut(whole, cuts));
          const start = a % (whole.length + 1);
          const end = start + (b % (whole.length + 1 - start));
          expect(line.indexOf(byte, start)).toBe(whole.indexOf(byte, start));
          expect(line.includes(byte)).toBe(whole.includes(byte));
          expect(line.toString('latin1', start, end)).toBe(whole.toString('latin1', start, end));
          expect(line.toString('utf8', start, end)).toBe(whole.toString('utf8', start, end));
          expect(line.slice(start, end).equals(whole.subarray(start, end))).toBe(true);
        },
      ),
      fuzzSettings(20261205, 500),
    );
  });

  it('keeps no empty part, and gives the only part itself when joined', () => {
    const only = Buffer.from('{"a":1}');
    const line = new LineParts([Buffer.alloc(0), only, Buffer.alloc(0)]);
    expect(line.parts).toHaveLength(1);
    expect(line.join()).toBe(only);
    expect(new LineParts([]).at(0)).toBeUndefined();
  });
});

describe('partsAreUtf8', () => {
  const samples: [string, Buffer][] = [
    ['ASCII', Buffer.from('{"id":1}')],
    ['two-, three- and four-byte sequences', Buffer.from('é€😀 é€😀')],
    ['a lone continuation byte', Buffer.from([0x61, 0x80, 0x62])],
    ['a truncated sequence at the end', Buffer.from([0x61, 0xe2, 0x82])],
    ['a truncated sequence before ASCII', Buffer.from([0xe2, 0x82, 0x61, 0x62])],
    ['an overlong encoding', Buffer.from([0xc0, 0xaf, 0x61])],
    ['a surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ['a code point past U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
    ['an invalid lead byte', Buffer.from([0x61, 0xff, 0x61])],
    ['a four-byte sequence cut short by another lead', Buffer.from([0xf0, 0x9f, 0xe2, 0x82, 0xac])],
  ];

  it.each(samples)('agrees with isUtf8 on %s however it is cut', (_, bytes) => {
    for (const parts of everyCut(bytes)) expect(partsAreUtf8(parts)).toBe(isUtf8(bytes));
  });

  it('agrees with isUtf8 on any bytes cut anywhere', () => {
    // Mostly valid text with bytes swapped in, so that both answers are common.
    const text = fc
      .tuple(fc.string({ unit: 'binary', maxLength: 40 }), fc.array(fc.nat(), { maxLength: 3 }))
      .chain(([string, spots]) =>
        fc.constant(Buffer.from(string)).chain((bytes) =>
          fc
            .array(fc.integer({ min: 0x80, max: 0xff }), {
              minLength: spots.length,
              maxLength: spots.length,
            })
            .map((values) => {
              const copy = Buffer.from(bytes);
              spots.forEach((spot, index) => {
                if (copy.length > 0) copy[spot % copy.length] = values[index] as number;
              });
              return copy;
            }),
        ),
      );
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        expect(partsAreUtf8(cut(bytes, cuts))).toBe(isUtf8(bytes));
      }),
      fuzzSettings(20261206, 2000),
    );
  });
});
