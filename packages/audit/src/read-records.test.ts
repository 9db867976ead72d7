import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions, tempDirectory } from '../test/fixtures.js';
import { auditStats, createJsonlSink, readAuditRecords, verifyFiles } from './index.js';

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

  it('leaves out a last line without its newline, as verify does, and lists it as skipped', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path });
    await sink.write(entry({ resource: 'read_file' }));
    await sink.write(entry({ resource: 'bash', outcome: 'denied' }));
    await sink.close();
    // A record appended by hand, with no valid hash and no newline: verify passes with a warning.
    const forged = { ...entry({ resource: 'delete_everything' }), id: 'forged' };
    await appendFile(path, JSON.stringify({ ...forged, timestamp: '2026-03-01T10:00:00.000Z' }));
    const verified = await verifyFiles(path);
    expect(verified).toMatchObject({ ok: true, records: 2, warnings: [{ reason: 'torn_line' }] });

    const read = await readAuditRecords(path);
    expect(read.records.map((record) => record.resource)).toEqual(['read_file', 'bash']);
    expect(read.skipped).toEqual([
      {
        file: path,
        line: 3,
        message: 'the last line is incomplete (no newline); it is not part of the chain',
      },
    ]);
    expect(auditStats(read.records)).toMatchObject({ events: 2 });
  });
});
