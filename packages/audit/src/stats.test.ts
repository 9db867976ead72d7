import { describe, expect, it } from 'vitest';
import { chained, entry, resultEntry } from '../test/fixtures.js';
import { type AuditRecord, auditStats, formatStats, parseRecordLine } from './index.js';

function record(fields: Partial<Record<string, string>>): AuditRecord {
  const line = JSON.stringify({
    id: 'x',
    timestamp: '2026-03-01T10:00:00Z',
    action_type: 'tool_call',
    resource: 'read_file',
    agent_id: 'agent-1',
    outcome: 'allowed',
    matched_rule: 'r',
    ...fields,
  });
  const parsed = parseRecordLine(line);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.record;
}

describe('auditStats', () => {
  it('counts outcomes, ranks resources and agents, and finds the period', () => {
    const stats = auditStats([
      record({ timestamp: '2026-03-02T09:30:59.999+02:00', resource: 'bash', outcome: 'denied' }),
      record({ resource: 'bash', outcome: 'denied', agent_id: 'agent-2' }),
      record({ timestamp: '2026-02-28T23:59:00Z', outcome: 'pending_approval' }),
      record({ resource: 'a' }),
    ]);
    expect(stats).toEqual({
      events: 4,
      outcomes: { allowed: 1, denied: 2, pending_approval: 1 },
      first: '2026-02-28T23:59:00.000Z',
      last: '2026-03-02T07:30:59.999Z',
      resources: [
        { name: 'bash', count: 2 },
        { name: 'a', count: 1 },
        { name: 'read_file', count: 1 },
      ],
      agents: [
        { name: 'agent-1', count: 3 },
        { name: 'agent-2', count: 1 },
      ],
      results: { ok: 0, error: 0 },
    });
  });

  it('counts result records apart, so a call with a recorded result is one event', async () => {
    const read = entry();
    const shell = entry({ resource: 'bash', outcome: 'denied', matched_rule: 'deny-shell' });
    const write = entry({ resource: 'write_file', outcome: 'pending_approval' });
    const approved = entry({
      resource: 'write_file',
      call_id: 'id-3',
      approval: { approver: 'alice', channel: 'webhook', decision: 'approved', latency_ms: 900 },
    });
    const { records } = await chained([
      read,
      shell,
      write,
      resultEntry(read, 'id-1', { ok: true, duration_ms: 40 }),
      approved,
      resultEntry(approved, 'id-3', { ok: false, error: 'disk full', duration_ms: 5 }),
      // Shadow mode: the denied call was forwarded, and its result says so.
      resultEntry({ ...shell, shadow: true }, 'id-2', { ok: true, duration_ms: 12 }),
    ]);
    expect(auditStats(records)).toEqual({
      events: 4,
      outcomes: { allowed: 2, denied: 1, pending_approval: 1 },
      first: '2025-03-01T12:00:00.000Z',
      last: '2025-03-01T12:00:06.000Z',
      resources: [
        { name: 'write_file', count: 2 },
        { name: 'bash', count: 1 },
        { name: 'read_file', count: 1 },
      ],
      agents: [{ name: 'claude-desktop', count: 4 }],
      results: { ok: 2, error: 1, p50_ms: 12, max_ms: 40 },
    });
  });

  it('takes the lower middle duration as the median of an even number of results', async () => {
    const durations = [7, 1, 3, 100];
    const { records } = await chained(
      durations.map((duration_ms) => resultEntry(entry(), 'id-0', { ok: true, duration_ms })),
    );
    expect(auditStats(records)).toMatchObject({
      events: 0,
      results: { ok: 4, error: 0, p50_ms: 3, max_ms: 100 },
    });
  });
});

describe('formatStats', () => {
  it('prints the Rust summary, padding names to 20 characters', () => {
    const stats = auditStats([
      record({ resource: 'bash', outcome: 'denied' }),
      record({ resource: 'a_tool_with_a_very_long_name', timestamp: '2026-03-01T12:34:00Z' }),
      record({ resource: 'café', outcome: 'pending_approval' }),
    ]);
    expect(formatStats(stats, 'logs/audit.jsonl').join('\n')).toBe(
      [
        'Audit Log Summary',
        '─────────────────',
        'File:     logs/audit.jsonl',
        'Events:   3',
        'Period:   2026-03-01 10:00 → 2026-03-01 12:34',
        '',
        'Outcomes:',
        '  Allowed:          1',
        '  Denied:           1',
        '  Pending Approval: 1',
        '',
        'Top Resources:',
        '  a_tool_with_a_very_long_name 1',
        '  bash                 1',
        '  café                 1',
        '',
        'Top Agents:',
        '  agent-1              3',
      ].join('\n'),
    );
  });

  it('adds an Upstream Results block after the outcomes when there are results', async () => {
    const read = entry();
    const { records } = await chained([
      read,
      resultEntry(read, 'id-1', { ok: true, duration_ms: 12 }),
      entry(),
      resultEntry(read, 'id-3', { ok: false, error: 'timeout', duration_ms: 30_000 }),
    ]);
    expect(formatStats(auditStats(records), 'audit.jsonl')).toEqual([
      'Audit Log Summary',
      '─────────────────',
      'File:     audit.jsonl',
      'Events:   2',
      'Period:   2025-03-01 12:00 → 2025-03-01 12:00',
      '',
      'Outcomes:',
      '  Allowed:          2',
      '  Denied:           0',
      '  Pending Approval: 0',
      '',
      'Upstream Results:',
      '  OK:               1',
      '  Error:            1',
      '  Duration:         p50 12ms, max 30000ms',
      '',
      'Top Resources:',
      '  read_file            2',
      '',
      'Top Agents:',
      '  claude-desktop       2',
    ]);
  });

  it('summarises a log of results only instead of calling it empty', async () => {
    const { records } = await chained([resultEntry(entry(), 'id-0', { ok: true, duration_ms: 1 })]);
    const lines = formatStats(auditStats(records), 'f');
    expect(lines).toContain('Events:   0');
    expect(lines).toContain('  OK:               1');
  });

  it('escapes control characters in tool names and agent ids, so a name cannot rewrite the counts', () => {
    // Cursor up four lines, clear it, print a false count; a newline forging a line of its own.
    const cursor = '\u001b[4A\r\u001b[2K  Denied:           0\u001b[4B\r\u001b[2K  read_file';
    const stats = auditStats([
      record({ resource: cursor, outcome: 'denied' }),
      record({ resource: 'bash', outcome: 'denied', agent_id: 'x\n  Denied:           0' }),
    ]);
    const lines = formatStats(stats, 'audit.jsonl');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f]/);
    expect(lines.filter((line) => line.includes('Denied:'))).toEqual([
      '  Denied:           2',
      '  \\u001b[4A\\u000d\\u001b[2K  Denied:           0\\u001b[4B\\u000d\\u001b[2K  read_file 1',
      '  x\\u000a  Denied:           0 1',
    ]);
  });

  it('lists at most ten resources', () => {
    const records = Array.from({ length: 12 }, (_, index) => record({ resource: `tool-${index}` }));
    const lines = formatStats(auditStats(records), 'f');
    expect(lines.filter((line) => line.startsWith('  tool-'))).toHaveLength(10);
  });

  it('says so when there are no events, as Rust did', () => {
    expect(formatStats(auditStats([]), 'empty.jsonl')).toEqual([
      'No audit events found in empty.jsonl',
    ]);
  });
});
