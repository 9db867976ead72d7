import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from './event.js';
import { createRecorder, isoTimestamp } from './record.js';

const entry = (reason: string): AuditEntry => ({
  action_type: 'tool_call',
  resource: 'echo',
  agent_id: 'agent',
  outcome: 'denied',
  matched_rule: 'r',
  reason,
  parameters: {},
  session: 's',
  server: 'srv',
  policy: { name: 'p', version: '1', hash: 'h' },
});

describe('isoTimestamp', () => {
  it('is toISOString for any date, in any order, however often a second repeats', () => {
    const time = fc.integer({ min: -8.64e15, max: 8.64e15 });
    // Runs of times within one second, then jumps, forwards and backwards.
    const runs = fc.array(
      fc.tuple(time, fc.array(fc.integer({ min: 0, max: 999 }), { maxLength: 5 })),
    );
    fc.assert(
      fc.property(runs, (sequence) => {
        for (const [start, offsets] of sequence) {
          const second = Math.floor(start / 1000) * 1000;
          for (const ms of [start, ...offsets.map((offset) => second + offset)]) {
            const date = new Date(ms);
            expect(isoTimestamp(date)).toBe(date.toISOString());
          }
        }
      }),
      { numRuns: 500, seed: 0x6b76 },
    );
  });

  it('writes the milliseconds with three digits and throws on an invalid date as toISOString does', () => {
    const base = Date.UTC(2026, 10, 24, 8, 0, 0);
    for (const ms of [0, 7, 42, 999]) {
      expect(isoTimestamp(new Date(base + ms))).toBe(new Date(base + ms).toISOString());
    }
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('a recorder redacts reasons', () => {
  it('the same way every time, past the memo of reasons it keeps', () => {
    let now = Date.UTC(2026, 10, 24);
    const recorder = createRecorder({ clock: () => new Date(now++), ids: () => 'id' });
    const secret = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 600; i++) {
        const reason = `denied ${i} with ${secret}`;
        const { event } = recorder.recordEvent(entry(reason));
        expect(event.reason).toBe(`denied ${i} with [REDACTED:github_token]`);
        expect(recorder.describe(entry(reason)).reason).toBe(event.reason);
      }
    }
    const long = `${'x'.repeat(2000)} ${secret}`;
    expect(recorder.recordEvent(entry(long)).event.reason).toBe(
      `${'x'.repeat(2000)} [REDACTED:github_token]`,
    );
  });
});
