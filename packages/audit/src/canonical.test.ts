import { describe, expect, it } from 'vitest';
import { AuditError, canonicalJson } from './index.js';

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units at every level and writes no whitespace', () => {
    expect(
      canonicalJson({ b: 1, a: [3, { z: null, y: true }], A: 'x', é: 0, '10': 1, '9': 2 }),
    ).toBe('{"10":1,"9":2,"A":"x","a":[3,{"y":true,"z":null}],"b":1,"é":0}');
  });

  it('writes strings and numbers as JSON.stringify does (RFC 8785 for these values)', () => {
    expect(canonicalJson(['line\nbreak "quoted" \u2028', 1e21, 0.1, -0, 5.0])).toBe(
      '["line\\nbreak \\"quoted\\" \u2028",1e+21,0.1,0,5]',
    );
  });

  it('keeps an own __proto__ key as data', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"polluted":1},"constructor":2}'))).toBe(
      '{"__proto__":{"polluted":1},"constructor":2}',
    );
  });

  it('leaves out members whose value is undefined', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it.each([
    ['a bigint', { size: 10n }],
    ['NaN', { n: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['a function', { f: () => 1 }],
    ['a Date', { when: new Date(0) }],
    ['undefined in an array', [undefined]],
  ])('refuses %s with invalid_input', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(
      expect.objectContaining({ code: 'invalid_input', name: 'AuditError' }),
    );
  });

  it('refuses a cycle instead of overflowing the stack', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    let error: unknown;
    try {
      canonicalJson(cycle);
    } catch (caught) {
      error = caught;
    }
    expect(AuditError.isInstance(error) && error.code).toBe('invalid_input');
  });
});
