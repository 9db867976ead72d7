import { describe, expect, it } from 'vitest';
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
