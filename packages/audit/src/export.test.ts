import { describe, expect, it } from 'vitest';
import {
  type AuditRecord,
  cefExtensionValue,
  cefHeaderField,
  cefLine,
  csvField,
  csvRow,
  exportRecords,
  matchesFilter,
  parseExportFormat,
  parseOutcome,
  parseRecordLine,
} from './index.js';

function record(fields: Record<string, string> = {}): AuditRecord {
  const parsed = parseRecordLine(
    JSON.stringify({
      id: 'id-1',
      timestamp: '2026-03-01T10:00:00.000Z',
      action_type: 'tool_call',
      resource: 'bash',
      agent_id: 'agent-1',
      outcome: 'denied',
      matched_rule: 'deny-shell',
      reason: 'no shell',
      server: 'shell',
      session: 's-1',
      ...fields,
    }),
  );
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.record;
}

describe('parseExportFormat and parseOutcome', () => {
  it('accept the Rust names and aliases', () => {
    expect(parseExportFormat('JSONL')).toBe('jsonl');
    expect(parseExportFormat('ndjson')).toBe('jsonl');
    expect(parseExportFormat('cef')).toBe('cef');
    expect(parseExportFormat('xml')).toBeUndefined();
    expect(parseOutcome('deny')).toBe('denied');
    expect(parseOutcome('approval')).toBe('pending_approval');
    expect(parseOutcome('allow')).toBe('allowed');
    expect(parseOutcome('constructor')).toBeUndefined();
  });
});

describe('matchesFilter', () => {
  it('applies every criterion, inclusively at the time bounds', () => {
    const r = record();
    const at = Date.UTC(2026, 2, 1, 10);
    expect(matchesFilter(r, {})).toBe(true);
    expect(matchesFilter(r, { since: at, until: at })).toBe(true);
    expect(matchesFilter(r, { since: at + 1 })).toBe(false);
    expect(matchesFilter(r, { until: at - 1 })).toBe(false);
    expect(matchesFilter(r, { outcome: 'allowed' })).toBe(false);
    expect(matchesFilter(r, { resource: 'as', agent: 'agent', server: 'she' })).toBe(true);
    expect(matchesFilter(r, { resource: 'BASH' })).toBe(false);
  });

  it('never matches --server on a record without a server', () => {
    const rust = parseRecordLine(
      '{"id":"a","timestamp":"2026-03-01T10:00:00Z","action_type":"t","resource":"r","agent_id":"g","outcome":"allowed","matched_rule":"m"}',
    );
    if (!rust.ok) throw new Error(rust.message);
    expect(matchesFilter(rust.record, { server: '' })).toBe(false);
  });
});

describe('csv', () => {
  it('quotes per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField('ünïcode ✓ 日本')).toBe('ünïcode ✓ 日本');
    expect(csvField('')).toBe('');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-cmd')).toBe("'-cmd");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('a=1')).toBe('a=1');
  });

  it('writes the documented columns, missing ones empty', () => {
    expect(csvRow(record({ reason: 'a, "b"' }))).toBe(
      'id-1,2026-03-01T10:00:00.000Z,tool_call,bash,agent-1,denied,deny-shell,"a, ""b""",shell,s-1',
    );
    const text = exportRecords([record()], 'csv', { version: '1' }).text;
    expect(text.split('\r\n')[0]).toBe(
      'id,timestamp,action_type,resource,agent_id,outcome,matched_rule,reason,server,session',
    );
  });
});

describe('CEF', () => {
  it('escapes header fields', () => {
    expect(cefHeaderField('a|b\\c')).toBe('a\\|b\\\\c');
    expect(cefHeaderField('one\r\ntwo\nthree')).toBe('one two three');
    expect(cefHeaderField('a=b')).toBe('a=b');
  });

  it('escapes extension values', () => {
    expect(cefExtensionValue('a=b')).toBe('a\\=b');
    expect(cefExtensionValue('c:\\dir')).toBe('c:\\\\dir');
    expect(cefExtensionValue('l1\nl2\r\nl3\rl4')).toBe('l1\\nl2\\nl3\\rl4');
    expect(cefExtensionValue('a|b ✓')).toBe('a|b ✓');
  });

  it('writes the Rust severities and the record fields', () => {
    const line = cefLine(record({ resource: 'x|y', reason: 'rm -rf / = bad\nreally' }), '0.1.0');
    expect(line).toBe(
      'CEF:0|Kvlar|PolicyEngine|0.1.0|denied|tool_call/x\\|y|8|rt=1772359200000 externalId=id-1 act=tool_call suser=agent-1 outcome=denied request=x|y cs1=deny-shell cs1Label=matchedRule cs2=shell cs2Label=server cs3=s-1 cs3Label=session msg=rm -rf / \\= bad\\nreally',
    );
    expect(cefLine(record({ outcome: 'allowed' }), '1')).toContain('|allowed|tool_call/bash|1|');
    expect(cefLine(record({ outcome: 'pending_approval' }), '1')).toContain('|5|');
  });
});

describe('exportRecords', () => {
  it('keeps jsonl lines as stored and counts what passed the filter', () => {
    const records = [record(), record({ outcome: 'allowed' })];
    const result = exportRecords(records, 'jsonl', {
      version: '1',
      filter: { outcome: 'allowed' },
    });
    expect(result.count).toBe(1);
    expect(result.text).toBe(`${records[1]?.line}\n`);
    expect(exportRecords([], 'cef', { version: '1' })).toEqual({ text: '', count: 0 });
  });
});
