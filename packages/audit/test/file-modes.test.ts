/**
 * The audit log holds tool arguments (redacted, but still what the agent did): on a machine with
 * other users it must not be readable by them. Cited by docs/security.md.
 */
import { chmod, chown, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditError, createJsonlSink } from '../src/index.js';
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

  it('makes a log that already existed readable by its owner only before writing to it', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    await writeFile(path, '');
    await chmod(path, 0o644); // as `touch` makes it under the usual umask
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path });
    expect(await mode(path)).toBe(0o600);
    await sink.write(entry());
    await sink.close();
    expect(await mode(path)).toBe(0o600);
  });

  it("makes the log's rotated files readable by their owner only too", async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const first = await createJsonlSink({ ...fixedRecordOptions(), path, maxBytes: 600 });
    for (let i = 0; i < 5; i++) await first.write(entry({ resource: `tool_${i}` }));
    await first.close();
    const rotated = (await readdir(directory))
      .filter((name) => name.endsWith('.jsonl') && name !== 'audit.jsonl')
      .map((name) => join(directory, name));
    expect(rotated.length).toBeGreaterThan(0);
    // As a copy, another tool or the Rust Kvlar may have left them.
    for (const file of rotated) await chmod(file, 0o644);
    const other = join(directory, 'other.jsonl');
    await writeFile(other, '');
    await chmod(other, 0o644);
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path, maxBytes: 600 });
    for (const file of rotated) expect([file, await mode(file)]).toEqual([file, 0o600]);
    // Another log in the same directory is not this one's to change.
    expect(await mode(other)).toBe(0o644);
    await sink.close();
  });

  // Only root can give a file to another user.
  it.runIf(process.getuid?.() === 0)(
    'refuses a log another user owns, naming it, and writes nothing',
    async () => {
      const directory = await tempDirectory();
      const path = join(directory, 'audit.jsonl');
      await writeFile(path, '');
      await chmod(path, 0o666);
      await chown(path, 65534, 65534);
      await expect(createJsonlSink({ ...fixedRecordOptions(), path })).rejects.toSatisfy(
        (error) =>
          AuditError.isInstance(error) &&
          error.code === 'audit_write_failed' &&
          error.message.includes(`the audit log ${path} belongs to another user (uid 65534`),
      );
      expect(await readFile(path, 'utf8')).toBe('');
      expect(await mode(path)).toBe(0o666);
      expect(await readdir(directory)).toEqual(['audit.jsonl']);
    },
  );
});
