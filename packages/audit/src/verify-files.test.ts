import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainLines, deleted, edited, forged, swapped } from '../test/chains.js';
import { entry, fixedRecordOptions, tempDirectory } from '../test/fixtures.js';
import { GENESIS_HASH } from './chain.js';
import { AuditError, createJsonlSink, verifyFiles, verifyText } from './index.js';
import { verifyFile } from './verify-files.js';

/** A log of 9 records rotated into 3 files of 3 records; returns the files oldest first. */
async function rotatedLog(name = 'audit'): Promise<{ directory: string; files: string[] }> {
  const directory = await tempDirectory();
  const path = join(directory, `${name}.jsonl`);
  const sink = await createJsonlSink({ ...fixedRecordOptions(), path, maxBytes: 3 * 600 });
  for (let i = 0; i < 9; i++) await sink.write(entry({ resource: `tool_${i}` }));
  await sink.close();
  const rotated = (await readdir(directory)).filter((file) => file !== `${name}.jsonl`).sort();
  const files = [...rotated, `${name}.jsonl`].map((file) => join(directory, file));
  const counts = await Promise.all(files.map(async (file) => (await lines(file)).length));
  expect(counts).toEqual([3, 3, 3]);
  return { directory, files };
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').slice(0, -1);
}

async function tamper(file: string, change: (lines: string[]) => string[]): Promise<void> {
  await writeFile(file, `${change(await lines(file)).join('\n')}\n`);
}

describe('verifyFiles', () => {
  it('follows rotation from the oldest file to the active one', async () => {
    const { directory, files } = await rotatedLog();
    const expected = { ok: true, chains: 1, files: 3, records: 9, warnings: [] };
    expect(await verifyFiles(directory)).toEqual(expected);
    expect(await verifyFiles(files[2] ?? '')).toEqual(expected);
    // A rotated file stands for its whole chain.
    expect(await verifyFiles(files[0] ?? '')).toEqual(expected);
  });

  it('names the file and line of an edited record', async () => {
    const { directory, files } = await rotatedLog();
    await tamper(files[1] ?? '', (all) => edited(all, 1));
    expect(await verifyFiles(directory)).toMatchObject({
      ok: false,
      files: 2,
      records: 4,
      failure: { file: files[1], line: 2, reason: 'edited' },
    });
  });

  it('names the file and line where a record was deleted', async () => {
    const { directory, files } = await rotatedLog();
    await tamper(files[1] ?? '', (all) => deleted(all, 0));
    expect(await verifyFiles(directory)).toMatchObject({
      ok: false,
      records: 3,
      failure: { file: files[1], line: 1, reason: 'deleted' },
    });
    // The last record of a file has no successor in it to tell a deletion from an insertion.
    const again = await rotatedLog();
    await tamper(again.files[2] ?? '', (all) => deleted(all, 1));
    expect(await verifyFiles(again.directory)).toMatchObject({
      ok: false,
      records: 7,
      failure: { file: again.files[2], line: 2, reason: 'broken_link' },
    });
  });

  it('names a forged record inserted into a file', async () => {
    const { directory, files } = await rotatedLog();
    await tamper(files[0] ?? '', (all) => forged(all, 1));
    expect(await verifyFiles(directory)).toMatchObject({
      ok: false,
      failure: { file: files[0], line: 2, reason: 'inserted' },
    });
  });

  it('names reordered records', async () => {
    const { directory, files } = await rotatedLog();
    await tamper(files[1] ?? '', (all) => swapped(all, 0, 2));
    expect(await verifyFiles(directory)).toMatchObject({
      ok: false,
      failure: { file: files[1], line: 1, reason: 'reordered' },
    });
  });

  it('names the file after a deleted rotated file', async () => {
    const { directory, files } = await rotatedLog();
    await rm(files[1] ?? '');
    expect(await verifyFiles(directory)).toMatchObject({
      ok: false,
      records: 3,
      failure: {
        file: files[2],
        line: 1,
        reason: 'deleted',
        message: 'the chain does not start where it should: records or files before it are missing',
      },
    });
  });

  it('names the first file when the oldest was deleted', async () => {
    const { directory, files } = await rotatedLog();
    await rm(files[0] ?? '');
    expect(await verifyFiles(directory)).toMatchObject({
      ok: false,
      failure: { file: files[1], line: 1, reason: 'deleted' },
    });
  });

  it('verifies up to a torn last line and reports it as a warning', async () => {
    const { directory, files } = await rotatedLog();
    await appendFile(files[2] ?? '', '{"action_type":"tool_c');
    expect(await verifyFiles(directory)).toMatchObject({
      ok: true,
      records: 9,
      warnings: [{ file: files[2], line: 4, reason: 'torn_line' }],
    });
  });

  it('fails on a line that is not JSON, naming file and line', async () => {
    const { directory, files } = await rotatedLog();
    await tamper(files[0] ?? '', (all) => [all[0] ?? '', 'garbage', ...all.slice(1)]);
    expect(await verifyFiles(directory)).toMatchObject({
      ok: false,
      failure: { file: files[0], line: 2, reason: 'bad_json' },
    });
  });

  it('verifies every chain in a directory', async () => {
    const { directory } = await rotatedLog();
    const other = await createJsonlSink({
      ...fixedRecordOptions(),
      path: join(directory, 'other.jsonl'),
    });
    await other.write(entry());
    await other.close();
    expect(await verifyFiles(directory)).toMatchObject({
      ok: true,
      chains: 2,
      files: 4,
      records: 10,
    });
  });

  it('reports a Rust-era log as records without a chain', async () => {
    const directory = await tempDirectory();
    const file = join(directory, 'audit.jsonl');
    await writeFile(file, '{"id":"1","timestamp":"2025-01-10T09:15:02Z","outcome":"denied"}\n');
    expect(await verifyFiles(file)).toMatchObject({
      ok: false,
      failure: { file, line: 1, reason: 'invalid_record' },
    });
  });

  it('throws invalid_input for a path that does not exist', async () => {
    const missing = join(await tempDirectory(), 'nope.jsonl');
    await expect(verifyFiles(missing)).rejects.toSatisfy(
      (error) => AuditError.isInstance(error) && error.code === 'invalid_input',
    );
  });
});

describe('verifyFile reads a file as a stream', () => {
  it('gives what verifyText gives over the whole text, for intact and broken logs', async () => {
    const directory = await tempDirectory();
    const chain = await chainLines(40);
    const variants: [string, string[], string][] = [
      ['intact', chain, ''],
      ['edited', edited(chain, 17), ''],
      ['deleted', deleted(chain, 25), ''],
      ['forged', forged(chain, 3), ''],
      ['swapped', swapped(chain, 10, 11), ''],
      ['torn', chain, '{"id":"half'],
      ['blank line', [...chain.slice(0, 5), '', ...chain.slice(5)], ''],
      ['empty', [], ''],
    ];
    for (const [name, lines, tail] of variants) {
      const file = join(directory, `${name.replace(' ', '-')}.jsonl`);
      await writeFile(file, lines.map((line) => `${line}\n`).join('') + tail);
      const whole = verifyText(await readFile(file, 'utf8'), { file, startHash: GENESIS_HASH });
      expect(await verifyFile(file, GENESIS_HASH), name).toEqual(whole);
    }
  });

  it('keeps lines and multi-byte characters whole across its read chunks', async () => {
    const directory = await tempDirectory();
    const file = join(directory, 'audit.jsonl');
    const sink = await createJsonlSink({ ...fixedRecordOptions(), path: file });
    // Records of ~100 KiB with 3- and 4-byte characters: many cross a 256 KiB read boundary.
    for (let i = 0; i < 12; i++) {
      await sink.write(
        entry({ resource: `tool_${i}`, parameters: { text: '€😀'.repeat(15_000 + i) } }),
      );
    }
    await sink.close();
    const result = await verifyFile(file, GENESIS_HASH);
    expect(result).toMatchObject({ ok: true, records: 12, warnings: [] });
    expect(result).toEqual(verifyText(await readFile(file, 'utf8'), { file }));
  });
});
