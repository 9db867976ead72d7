import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainLines, copied, deleted, edited, forged, swapped } from '../test/chains.js';
import { canonicalJson } from './canonical.js';
import { type ChainBreakReason, verifyChain, verifyText } from './index.js';

function failure(lines: readonly string[]) {
  const result = verifyChain(lines, { file: 'audit.jsonl' });
  return result.ok ? undefined : result.failure;
}

describe('verifyChain', () => {
  it('accepts an intact chain and counts its records', async () => {
    const lines = await chainLines(5);
    const lastHash = (JSON.parse(lines[4] ?? '') as { hash: string }).hash;
    expect(verifyChain(lines)).toEqual({ ok: true, records: 5, lastHash, warnings: [] });
    expect(verifyChain([])).toMatchObject({ ok: true, records: 0, lastHash: '0'.repeat(64) });
  });

  it('names an edited record', async () => {
    expect(failure(edited(await chainLines(5), 2))).toEqual({
      file: 'audit.jsonl',
      line: 3,
      reason: 'edited',
      message: 'the record was edited: its content does not match its hash',
    });
  });

  it('names the line where records were deleted', async () => {
    expect(failure(deleted(await chainLines(5), 1))).toMatchObject({ line: 2, reason: 'deleted' });
  });

  it('names a forged record inserted in the middle, though it links to the one before', async () => {
    expect(failure(forged(await chainLines(5), 2))).toMatchObject({
      line: 3,
      reason: 'inserted',
      message: 'the record was inserted: the next record skips it',
    });
  });

  it('names a copy of an earlier record', async () => {
    expect(failure(copied(await chainLines(5), 1, 4))).toMatchObject({
      line: 5,
      reason: 'inserted',
      message: 'the record is a copy of line 2',
    });
  });

  it('names two swapped records', async () => {
    expect(failure(swapped(await chainLines(5), 1, 2))).toMatchObject({
      line: 2,
      reason: 'reordered',
      message: 'the record follows line 3, which comes after it: records were reordered',
    });
  });

  it('names a chain that does not start at the genesis hash', async () => {
    expect(failure(deleted(await chainLines(3), 0))).toMatchObject({
      line: 1,
      reason: 'deleted',
      message: 'the chain does not start where it should: records or files before it are missing',
    });
  });

  it('names a line that is not JSON, a record without chain fields and a self-linked one', async () => {
    const lines = await chainLines(2);
    expect(failure([...lines, '{"id":"x",'])).toMatchObject({ line: 3, reason: 'bad_json' });
    expect(failure([...lines, '[1,2]'])).toMatchObject({ line: 3, reason: 'bad_json' });
    const rust = '{"id":"1","outcome":"denied","resource":"bash"}';
    expect(failure([rust])).toMatchObject({ line: 1, reason: 'invalid_record' });
    const self = canonicalJson({ id: 'x', prev_hash: 'a'.repeat(64), hash: 'a'.repeat(64) });
    expect(failure([self])).toMatchObject({ line: 1, reason: 'self_linked' });
  });

  it('names a record rewritten without changing its content', async () => {
    const lines = await chainLines(3);
    const pretty = JSON.stringify(JSON.parse(lines[1] ?? ''), null, 1).replace(/\n/g, '');
    expect(failure([lines[0] ?? '', pretty, lines[2] ?? ''])).toMatchObject({
      line: 2,
      reason: 'not_canonical',
    });
  });

  it('continues a chain from a given start hash', async () => {
    const lines = await chainLines(4);
    const startHash = (JSON.parse(lines[1] ?? '') as { hash: string }).hash;
    expect(verifyChain(lines.slice(2), { startHash })).toMatchObject({ ok: true, records: 2 });
  });
});

describe('verifyText', () => {
  it('verifies up to the last complete record and reports a torn last line', async () => {
    const lines = await chainLines(3);
    const text = `${lines.join('\n')}\n${(lines[2] ?? '').slice(0, 40)}`;
    expect(verifyText(text, { file: 'a.jsonl' })).toMatchObject({
      ok: true,
      records: 3,
      warnings: [{ file: 'a.jsonl', line: 4, reason: 'torn_line' }],
    });
  });

  it('reports a torn line in the middle as bad JSON', async () => {
    const lines = await chainLines(3);
    const text = `${lines[0]}\n${(lines[1] ?? '').slice(0, 40)}${lines[2]}\n`;
    expect(verifyText(text)).toMatchObject({ ok: false, failure: { line: 2, reason: 'bad_json' } });
  });
});

describe('verifyChain, against any single tampering of a chain of any length', () => {
  const tampering = fc.integer({ min: 2, max: 24 }).chain((length) =>
    fc.oneof(
      fc.nat(length - 1).map((i) => ({ length, kind: 'edit' as const, i, j: 0 })),
      fc.nat(length - 2).map((i) => ({ length, kind: 'delete' as const, i, j: 0 })),
      fc.nat(length - 1).map((i) => ({ length, kind: 'forge' as const, i, j: 0 })),
      fc
        .tuple(fc.nat(length - 1), fc.nat(length))
        .map(([j, i]) => ({ length, kind: 'copy' as const, i, j })),
      fc
        .tuple(fc.nat(length - 1), fc.nat(length - 1))
        .filter(([a, b]) => a !== b)
        .map(([a, b]) => ({ length, kind: 'swap' as const, i: Math.min(a, b), j: Math.max(a, b) })),
    ),
  );

  it('detects it and names the tampered line', async () => {
    const chains = new Map<number, string[]>();
    for (let length = 2; length <= 24; length++) chains.set(length, await chainLines(length));
    fc.assert(
      fc.property(tampering, ({ length, kind, i, j }) => {
        const lines = chains.get(length) ?? [];
        const cases: Record<typeof kind, () => [string[], number, ChainBreakReason[]]> = {
          edit: () => [edited(lines, i), i + 1, ['edited']],
          // Deleting the last record leaves an intact shorter chain: excluded (see docs/audit.md).
          delete: () => [deleted(lines, i), i + 1, ['deleted', 'broken_link']],
          forge: () => [forged(lines, i), i + 1, ['inserted']],
          // A copy next to its original: the second of the two is the one out of place.
          copy: () => [copied(lines, j, i), i === j ? i + 2 : i + 1, ['inserted', 'reordered']],
          swap: () => [swapped(lines, i, j), i + 1, ['reordered']],
        };
        const [tampered, line, reasons] = cases[kind]();
        const found = failure(tampered);
        expect(found?.line).toBe(line);
        expect(reasons).toContain(found?.reason);
      }),
      { numRuns: 500 },
    );
  });
});
