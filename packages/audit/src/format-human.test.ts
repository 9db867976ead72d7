import { describe, expect, it } from 'vitest';
import { chained, entry, resultEntry } from '../test/fixtures.js';
import { formatRecordHuman } from './index.js';

describe('formatRecordHuman', () => {
  it('labels a result record RESULT, so it does not read as a second decision', async () => {
    const read = entry();
    const shell = entry({
      resource: 'bash',
      outcome: 'denied',
      matched_rule: 'deny-shell',
      reason: 'no shell',
      shadow: true,
    });
    const { records } = await chained([
      read,
      resultEntry(read, 'id-1', { ok: true, duration_ms: 12 }),
      shell,
      resultEntry(shell, 'id-3', { ok: false, error: 'exit 1\nboom', duration_ms: 30 }),
    ]);
    expect(records.map((record) => formatRecordHuman(record, false))).toEqual([
      '2025-03-01T12:00:00.000Z  ALLOW     filesystem/read_file  agent=claude-desktop  rule=allow-reads',
      '2025-03-01T12:00:01.000Z  RESULT    filesystem/read_file  agent=claude-desktop  rule=allow-reads  [upstream ok, 12ms]',
      '2025-03-01T12:00:02.000Z  DENY      filesystem/bash  agent=claude-desktop  rule=deny-shell  — no shell  [shadow: not enforced]',
      '2025-03-01T12:00:03.000Z  RESULT    filesystem/bash  agent=claude-desktop  rule=deny-shell  [shadow: not enforced]  [upstream error: exit 1\\u000aboom, 30ms]',
    ]);
  });

  it('names a message refused unread by its action type, since it has no resource', async () => {
    const unreadable = entry({
      action_type: 'unreadable',
      resource: '',
      outcome: 'denied',
      matched_rule: '_invalid_request',
      reason: 'message is not valid JSON',
      parameters: {},
    });
    const { records } = await chained([unreadable, entry({ resource: '' })]);
    const [first, second] = records.map((record) => formatRecordHuman(record, false));
    expect(first).toContain(' filesystem/(unreadable)  agent=');
    expect(second).toContain(' filesystem/(tool_call)  agent=');
  });

  it('colours a result green when the server answered and red when it failed', async () => {
    const { records } = await chained([
      resultEntry(entry(), 'id-0', { ok: true, duration_ms: 1 }),
      resultEntry(entry(), 'id-0', { ok: false, duration_ms: 1 }),
    ]);
    const [ok, failed] = records.map((record) => formatRecordHuman(record, true));
    expect(ok).toContain('\u001b[32mRESULT  \u001b[0m');
    expect(failed).toContain('\u001b[31mRESULT  \u001b[0m');
    expect(failed).toContain('[upstream error: unknown, 1ms]');
  });
});
