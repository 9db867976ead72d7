import { describe, expect, it } from 'vitest';
import { chained, entry, resultEntry } from '../test/fixtures.js';
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

  it('reads the years 0000–0099 as written, not as 1900–1999', () => {
    expect(new Date(parseRfc3339('0099-12-31T23:59:59Z')!).toISOString()).toBe(
      '0099-12-31T23:59:59.000Z',
    );
    // 1900 was not a leap year; the year 0 (1 BC, proleptic Gregorian) was.
    expect(new Date(parseRfc3339('0000-02-29T00:00:00+01:00')!).toISOString()).toBe(
      '0000-02-28T23:00:00.000Z',
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

  it('reads the call_id and upstream of a result record, and the call_id of an approval answer', async () => {
    const decision = entry({ outcome: 'pending_approval', matched_rule: 'ask-first' });
    const answer = entry({
      call_id: 'id-1',
      approval: { approver: 'alice', channel: 'webhook', decision: 'approved', latency_ms: 900 },
    });
    const failed = { ok: false, error: 'ENOENT', duration_ms: 12.5 };
    const { records } = await chained([decision, answer, resultEntry(decision, 'id-1', failed)]);
    expect(records[0]?.call_id).toBeUndefined();
    expect(records[0]?.upstream).toBeUndefined();
    expect(records[1]).toMatchObject({ id: 'id-2', call_id: 'id-1' });
    expect(records[1]?.upstream).toBeUndefined();
    expect(records[2]).toMatchObject({ id: 'id-3', call_id: 'id-1', upstream: failed });
    expect(records[2]?.reason).toBeUndefined();
  });

  it('skips a line whose upstream is not a result, saying why', async () => {
    const { lines } = await chained([resultEntry(entry(), 'id-0', { ok: true, duration_ms: 3 })]);
    const line = lines[0] ?? '';
    const message = 'upstream is not {ok: boolean, duration_ms: number >= 0, error?: string}';
    for (const upstream of [
      'null',
      '[]',
      '"ok"',
      '{"duration_ms":3}',
      '{"ok":"true","duration_ms":3}',
      '{"ok":true}',
      '{"ok":true,"duration_ms":-1}',
      '{"ok":true,"duration_ms":"3"}',
      '{"ok":false,"duration_ms":3,"error":{"code":1}}',
    ]) {
      const edited = line.replace(
        '"upstream":{"duration_ms":3,"ok":true}',
        `"upstream":${upstream}`,
      );
      expect(edited).not.toBe(line);
      expect(parseRecordLine(edited)).toEqual({ ok: false, message });
    }
    const withError = line.replace('"ok":true', '"error":"x","ok":false');
    expect(parseRecordLine(withError)).toMatchObject({
      ok: true,
      record: { upstream: { ok: false, error: 'x', duration_ms: 3 } },
    });
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

  it('reads whole-file text without its unterminated last line, listing that line as torn', () => {
    const text = `${RUST_LINE}\n${RUST_LINE}`;
    expect(parseRecords(text).records).toHaveLength(2);
    const whole = parseRecords(text, { file: 'a.jsonl', wholeFile: true });
    expect(whole.records).toHaveLength(1);
    expect(whole.skipped).toEqual([
      {
        file: 'a.jsonl',
        line: 2,
        message: 'the last line is incomplete (no newline); it is not part of the chain',
      },
    ]);
    expect(parseRecords(`${RUST_LINE}\n`, { wholeFile: true })).toMatchObject({ skipped: [] });
  });

  it('lists a line with a malformed upstream as skipped instead of reading it as a decision', () => {
    const broken = RUST_LINE.replace('}', ',"upstream":{"ok":true}}');
    const parsed = parseRecords(`${RUST_LINE}\n${broken}\n`);
    expect(parsed.records).toHaveLength(1);
    expect(parsed.skipped).toEqual([
      {
        line: 2,
        message: 'upstream is not {ok: boolean, duration_ms: number >= 0, error?: string}',
      },
    ]);
  });
});
