import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirectory } from '../test/fixtures.js';
import { auditStats, readAuditRecords } from './index.js';

describe('readAuditRecords', () => {
  it('reads a log of 200,000 records in one file (the stack once overflowed past ~125,000)', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      lines.push(
        JSON.stringify({
          id: `r${i}`,
          timestamp: '2026-11-24T00:00:00.000Z',
          action_type: 'tool_call',
          resource: i % 4 === 0 ? 'rm' : 'echo',
          agent_id: 'load',
          outcome: i % 4 === 0 ? 'denied' : 'allowed',
          matched_rule: i % 4 === 0 ? 'deny-rm' : 'allow-echo',
        }),
      );
    }
    await writeFile(path, `${lines.join('\n')}\n`);
    const read = await readAuditRecords(path);
    expect(read.records).toHaveLength(200_000);
    expect(read.skipped).toEqual([]);
    expect(auditStats(read.records)).toMatchObject({ events: 200_000 });
  });
});
