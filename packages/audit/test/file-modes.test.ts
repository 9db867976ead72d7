/**
 * The audit log holds tool arguments (redacted, but still what the agent did): on a machine with
 * other users it must not be readable by them. Cited by docs/security.md.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsonlSink } from '../src/index.js';
import { entry, fixedRecordOptions, tempDirectory } from './fixtures.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe.runIf(process.platform !== 'win32')('audit files on a shared machine', () => {
  it('creates the audit log, its rotated files and its lock readable by their owner only', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path, maxBytes: 600 });
    for (let i = 0; i < 5; i++) await sink.write(entry({ resource: `tool_${i}` }));
    expect(await mode(`${path}.lock`)).toBe(0o600);
    await sink.close();
    const logs = (await readdir(directory)).filter((name) => name.endsWith('.jsonl'));
    expect(logs.length).toBeGreaterThan(1);
    for (const name of logs)
      expect([name, await mode(join(directory, name))]).toEqual([name, 0o600]);
  });
});
