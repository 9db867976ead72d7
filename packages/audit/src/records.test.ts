import { describe, expect, it } from 'vitest';
import { parseRecordLine, parseRecords, parseRfc3339 } from './index.js';

const RUST_LINE =
  '{"id":"0b0c5a9e-8f3c-4a53-9a4e-3d6a2f1c0e11","timestamp":"2026-03-01T10:15:30.123456789+00:00","action_type":"tool_call","resource":"bash","agent_id":"mcp-agent","outcome":"denied","matched_rule":"deny-shell","reason":"no shell"}';

describe('parseRfc3339', () => {
  it('reads UTC, offsets and fractions beyond milliseconds', () => {
    expect(parseRfc3339('2026-03-01T00:00:00Z')).toBe(Date.UTC(2026, 2, 1));
    expect(parseRfc3339('2026-03-01T01:00:00+01:00')).toBe(Date.UTC(2026, 2, 1));
    expect(parseRfc3339('2026-03-01T00:00:00.123456789-00:30')).toBe(
      Date.UTC(2026, 2, 1, 0, 30, 0, 123),
    );
  });

  it('rejects what is not RFC 3339', () => {
    for (const text of ['2026-03-01', 'yesterday', '2026-02-30T00:00:00Z', '2026-03-01T00:00:00']) {
      expect(parseRfc3339(text)).toBeUndefined();
    }
  });
});

describe('parseRecordLine', () => {
  it('reads a Rust-era record, which has no chain fields', () => {
    const parsed = parseRecordLine(RUST_LINE);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.record).toMatchObject({
      resource: 'bash',
      outcome: 'denied',
      reason: 'no shell',
      time: Date.UTC(2026, 2, 1, 10, 15, 30, 123),
      line: RUST_LINE,
    });
    expect(parsed.record.server).toBeUndefined();
  });

  it('says why a line is not a record', () => {
    expect(parseRecordLine('{"id":')).toEqual({ ok: false, message: 'not JSON' });
    expect(parseRecordLine('[1]')).toEqual({ ok: false, message: 'not a JSON object' });
    const badOutcome = RUST_LINE.replace('"denied"', '"maybe"');
    expect(parseRecordLine(badOutcome)).toMatchObject({ ok: false });
    const inherited = '{"__proto__":{"id":"x"}}';
    expect(parseRecordLine(inherited)).toMatchObject({ ok: false });
  });
});

describe('parseRecords', () => {
  it('skips blank lines silently and lists the lines it could not read', () => {
    const text = `${RUST_LINE}\n\n  \nnot json\n${RUST_LINE}\r\n{"torn":`;
    const parsed = parseRecords(text, { file: 'a.jsonl' });
    expect(parsed.records).toHaveLength(2);
    expect(parsed.skipped).toEqual([
      { file: 'a.jsonl', line: 4, message: 'not JSON' },
      { file: 'a.jsonl', line: 6, message: 'not JSON' },
    ]);
  });
});
