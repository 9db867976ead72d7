import { describe, expect, it } from 'vitest';
import { chained, entry, resultEntry } from '../test/fixtures.js';
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
  parseRecordKind,
  parseRecordLine,
} from './index.js';

/** A call needing approval, its answer, its result, then an allowed call that failed: id-1 … id-5. */
async function callsWithResults(): Promise<readonly AuditRecord[]> {
  const ask = entry({ resource: 'write_file', outcome: 'pending_approval', matched_rule: 'ask' });
  const answer = entry({
    resource: 'write_file',
    matched_rule: 'ask',
    call_id: 'id-1',
    approval: { approver: 'alice', channel: 'webhook', decision: 'approved', latency_ms: 900 },
  });
  const shell = entry({ resource: 'bash' });
  const error = '-1: no such file, "x"\n= bad';
  const { records } = await chained([
    ask,
    answer,
    resultEntry(answer, 'id-1', { ok: true, duration_ms: 12 }),
    shell,
    resultEntry(shell, 'id-4', { ok: false, error, duration_ms: 7.6 }),
  ]);
  return records;
}

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

  it('parseRecordKind takes decisions and results only', () => {
    expect(parseRecordKind('decisions')).toBe('decisions');
    expect(parseRecordKind('results')).toBe('results');
    for (const text of ['result', 'RESULTS', 'all', 'constructor', '']) {
      expect(parseRecordKind(text)).toBeUndefined();
    }
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
    expect(matchesFilter(rust.record, { kind: 'decisions' })).toBe(true);
    expect(matchesFilter(rust.record, { kind: 'results' })).toBe(false);
  });

  it('tells decisions, approval answers included, from results by kind', async () => {
    const records = await callsWithResults();
    const ids = (kind: 'decisions' | 'results') =>
      records.filter((record) => matchesFilter(record, { kind })).map((record) => record.id);
    expect(ids('decisions')).toEqual(['id-1', 'id-2', 'id-4']);
    expect(ids('results')).toEqual(['id-3', 'id-5']);
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
      'id-1,2026-03-01T10:00:00.000Z,tool_call,bash,agent-1,denied,deny-shell,"a, ""b""",shell,s-1,,,,',
    );
    const text = exportRecords([record()], 'csv', { version: '1' }).text;
    expect(text.split('\r\n')[0]).toBe(
      'id,timestamp,action_type,resource,agent_id,outcome,matched_rule,reason,server,session,call_id,upstream_ok,upstream_error,duration_ms',
    );
  });

  it("fills call_id and the upstream columns of results, escaping the server's error", async () => {
    const rows = (await callsWithResults()).map(csvRow);
    const call = 'tool_call,write_file,claude-desktop,allowed,ask,,filesystem,session-1';
    expect(rows[1]).toBe(`id-2,2025-03-01T12:00:01.000Z,${call},id-1,,,`);
    expect(rows[2]).toBe(`id-3,2025-03-01T12:00:02.000Z,${call},id-1,true,,12`);
    expect(rows[4]).toBe(
      'id-5,2025-03-01T12:00:04.000Z,tool_call,bash,claude-desktop,allowed,allow-reads,,filesystem,session-1,' +
        `id-4,false,"'-1: no such file, ""x""\n= bad",7.6`,
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

  it("names a result upstream_ok or upstream_error, with the call's id, duration and error", async () => {
    const lines = (await callsWithResults()).map((r) => cefLine(r, '1'));
    const head = 'CEF:0|Kvlar|PolicyEngine|1';
    const who = 'act=tool_call suser=claude-desktop';
    const where = 'cs2=filesystem cs2Label=server cs3=session-1 cs3Label=session';
    const write = `request=write_file cs1=ask cs1Label=matchedRule ${where}`;
    const bash = `request=bash cs1=allow-reads cs1Label=matchedRule ${where}`;
    expect(lines).toEqual([
      `${head}|pending_approval|tool_call/write_file|5|rt=1740830400000 externalId=id-1 ${who} outcome=pending_approval ${write} msg=`,
      `${head}|allowed|tool_call/write_file|1|rt=1740830401000 externalId=id-2 ${who} outcome=allowed ${write} cs4=id-1 cs4Label=callId msg=`,
      `${head}|upstream_ok|tool_call/write_file|1|rt=1740830402000 externalId=id-3 ${who} outcome=allowed ${write} cs4=id-1 cs4Label=callId cn1=12 cn1Label=durationMs msg=`,
      `${head}|allowed|tool_call/bash|1|rt=1740830403000 externalId=id-4 ${who} outcome=allowed ${bash} msg=`,
      `${head}|upstream_error|tool_call/bash|3|rt=1740830404000 externalId=id-5 ${who} outcome=allowed ${bash} cs4=id-4 cs4Label=callId cn1=8 cn1Label=durationMs msg=-1: no such file, "x"\\n\\= bad`,
    ]);
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

  it('exports only the results with kind results', async () => {
    const records = await callsWithResults();
    const result = exportRecords(records, 'jsonl', { version: '1', filter: { kind: 'results' } });
    expect(result).toEqual({ text: `${records[2]?.line}\n${records[4]?.line}\n`, count: 2 });
  });
});
