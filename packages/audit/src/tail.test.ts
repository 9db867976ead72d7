import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions, tempDirectory } from '../test/fixtures.js';
import { AuditError, createJsonlSink, openAuditTail } from './index.js';

const resources = (records: readonly { readonly resource: string }[]) =>
  records.map((record) => record.resource);

describe('openAuditTail', () => {
  it('reads what is there, then only complete lines appended since', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path });
    await sink.write(entry({ resource: 'tool_0' }));
    const tail = await openAuditTail(path);
    try {
      expect(resources(tail.records)).toEqual(['tool_0']);
      expect((await tail.poll()).records).toEqual([]);
      await sink.write(entry({ resource: 'tool_1' }));
      await sink.close();
      expect(resources((await tail.poll()).records)).toEqual(['tool_1']);
      const line = tail.records[0]?.line.replace('tool_0', 'tool_2') ?? '';
      await appendFile(path, line.slice(0, 30));
      expect((await tail.poll()).records).toEqual([]);
      await appendFile(path, `${line.slice(30)}\nnot json\n`);
      const next = await tail.poll();
      expect(resources(next.records)).toEqual(['tool_2']);
      expect(next.skipped).toEqual([{ file: path, line: 4, message: 'not JSON' }]);
    } finally {
      await tail.close();
    }
  });

  it('leaves out the unterminated last line of a rotated file, as verify does', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const first = await createJsonlSink({ ...fixedRecordOptions(), path });
    await first.write(entry({ resource: 'tool_0' }));
    await first.close();
    // A whole record appended without its newline: torn, so moved aside as it is.
    const forged = { ...entry({ resource: 'forged' }), id: 'x', timestamp: '2026-03-01T10:00:00Z' };
    await appendFile(path, JSON.stringify(forged));
    const second = await createJsonlSink({ ...fixedRecordOptions(), path, onTornLine: 'rotate' });
    await second.write(entry({ resource: 'tool_1' }));
    await second.close();
    const tail = await openAuditTail(path);
    try {
      expect(resources(tail.records)).toEqual(['tool_0', 'tool_1']);
      expect(tail.skipped).toEqual([
        expect.objectContaining({
          line: 2,
          message: 'the last line is incomplete (no newline); it is not part of the chain',
        }),
      ]);
    } finally {
      await tail.close();
    }
  });

  it('follows several rotations between two polls without losing or repeating a record', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path, maxBytes: 1 });
    await sink.write(entry({ resource: 'tool_0' }));
    await sink.write(entry({ resource: 'tool_1' }));
    const tail = await openAuditTail(directory);
    try {
      expect(resources(tail.records)).toEqual(['tool_0', 'tool_1']);
      for (let i = 2; i < 6; i++) await sink.write(entry({ resource: `tool_${i}` }));
      expect(resources((await tail.poll()).records)).toEqual([
        'tool_2',
        'tool_3',
        'tool_4',
        'tool_5',
      ]);
      expect((await tail.poll()).records).toEqual([]);
    } finally {
      await sink.close();
      await tail.close();
    }
  });

  it('starts a file truncated in place again from its beginning', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path });
    await sink.write(entry({ resource: 'tool_0' }));
    await sink.write(entry({ resource: 'tool_1' }));
    await sink.close();
    const tail = await openAuditTail(path);
    try {
      await writeFile(path, `${tail.records[0]?.line}\n`);
      expect(resources((await tail.poll()).records)).toEqual(['tool_0']);
    } finally {
      await tail.close();
    }
  });

  it('fails with invalid_input for a missing file', async () => {
    const directory = await tempDirectory();
    await expect(openAuditTail(join(directory, 'missing.jsonl'))).rejects.toBeInstanceOf(
      AuditError,
    );
  });
});
