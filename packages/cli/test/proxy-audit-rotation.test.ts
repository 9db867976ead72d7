import { appendFile, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvlar, tempDir } from './helpers.js';
import { auditRecords, proxiesPerTest, recordedCalls, toolCall } from './proxy-helpers.js';

const { start, launch } = proxiesPerTest();

/** The rotated files beside `auditFile`, oldest first. */
async function rotatedBeside(auditFile: string): Promise<string[]> {
  const names = await readdir(dirname(auditFile));
  return names.filter((name) => /^audit-\d{8}T\d{6}Z-\d{6,}\.jsonl$/.test(name)).sort();
}

describe('kvlar proxy --audit with rotation', () => {
  it('rotates at --audit-max-bytes and the chain verifies across the files', async () => {
    const proxy = await start({ flags: ['--audit-max-bytes', '2048'] });
    const calls = 12;
    for (let id = 1; id <= calls; id++) {
      proxy.send(toolCall(id, 'safe', { note: `call ${id} ${'x'.repeat(100)}` }));
      await proxy.answerTo(id);
    }
    proxy.closeInput();
    expect((await proxy.exited).code).toBe(0);

    const rotated = await rotatedBeside(proxy.auditFile);
    expect(rotated.length).toBeGreaterThanOrEqual(2);
    const dir = dirname(proxy.auditFile);
    const files = [...rotated.map((name) => join(dir, name)), proxy.auditFile];
    const records = (await Promise.all(files.map(auditRecords))).flat();
    // Every call the server received has its record, in order, and no file passed the limit
    // (a record larger than the limit would get a file of its own; none is here).
    expect(records.map((record) => record.resource)).toEqual(Array(calls).fill('safe'));
    expect(await recordedCalls(proxy.recordFile)).toHaveLength(calls);
    for (const file of files) {
      expect((await readFile(file)).length).toBeLessThanOrEqual(2048);
    }
    const verified = await kvlar(['audit', 'verify', proxy.auditFile], { cwd: dir });
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`${calls} records`);
  });

  it('records every call with --audit-sync background, rotating, and the chain verifies', async () => {
    const proxy = await start({
      flags: ['--audit-sync', 'background', '--audit-max-bytes', '4096'],
    });
    const calls = 30;
    for (let id = 1; id <= calls; id++) proxy.send(toolCall(id, 'safe', { note: `call ${id}` }));
    for (let id = 1; id <= calls; id++) await proxy.answerTo(id);
    proxy.closeInput();
    expect((await proxy.exited).code).toBe(0);
    const dir = dirname(proxy.auditFile);
    const files = [
      ...(await rotatedBeside(proxy.auditFile)).map((name) => join(dir, name)),
      proxy.auditFile,
    ];
    expect(files.length).toBeGreaterThanOrEqual(2);
    const records = (await Promise.all(files.map(auditRecords))).flat();
    expect(records).toHaveLength(calls);
    expect(await recordedCalls(proxy.recordFile)).toHaveLength(calls);
    const verified = await kvlar(['audit', 'verify', proxy.auditFile], { cwd: dir });
    expect(verified.code).toBe(0);
  });

  it('refuses a log that ends torn by default, naming the file and line', async () => {
    const first = await start();
    first.send(toolCall(1, 'safe'));
    await first.answerTo(1);
    first.closeInput();
    await first.exited;
    // A crash mid-write leaves half a record.
    await appendFile(first.auditFile, '{"id":"half-a-rec');

    const refused = await launch({ flags: ['--audit', first.auditFile] });
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr()).toContain(`${first.auditFile}:2: the audit log ends in a torn`);
    expect(refused.stderr()).toContain('--audit-torn-line rotate');
  });

  it('moves a torn log aside with --audit-torn-line rotate and goes on with the chain', async () => {
    const first = await start();
    first.send(toolCall(1, 'safe'));
    await first.answerTo(1);
    first.closeInput();
    await first.exited;
    await appendFile(first.auditFile, '{"id":"half-a-rec');

    const second = await start({
      flags: ['--audit', first.auditFile, '--audit-torn-line', 'rotate'],
    });
    second.send(toolCall(2, 'safe'));
    await second.answerTo(2);
    second.closeInput();
    expect((await second.exited).code).toBe(0);
    const [aside] = await rotatedBeside(first.auditFile);
    expect(aside).toBeDefined();
    const dir = dirname(first.auditFile);
    expect(second.stderr()).toContain(
      `${first.auditFile}:2 is a torn (incomplete) line: the file was moved aside as it was, to ${join(dir, aside as string)}`,
    );
    // The torn bytes stay where they were, as evidence; the new file links to the last whole record.
    const asideText = await readFile(join(dir, aside as string), 'utf8');
    expect(asideText).toMatch(/\n\{"id":"half-a-rec$/);
    const before = JSON.parse(asideText.split('\n')[0] as string) as { hash: string };
    const [after] = await auditRecords(first.auditFile);
    expect(after?.prev_hash).toBe(before.hash);
    const verified = await kvlar(['audit', 'verify', first.auditFile], { cwd: dir });
    expect(verified.code).toBe(0);
    expect(verified.stderr).toContain('torn');
  });

  it('refuses rotation flags without --audit, and bad values, before starting anything', async () => {
    const dir = await tempDir({ 'policy.yaml': 'name: p\nrules: []\n' });
    const cases: [string[], RegExp][] = [
      [['--audit-max-bytes', '4096'], /--audit-max-bytes needs --audit FILE/],
      [['--audit-rotate-daily'], /--audit-rotate-daily needs --audit FILE/],
      [['--audit', 'a.jsonl', '--audit-max-bytes', '10'], /at least 1024, not '10'/],
      [
        ['--audit', 'a.jsonl', '--audit-max-bytes', '2k'],
        /whole number of at least 1024, not '2k'/,
      ],
      [['--audit', 'a.jsonl', '--audit-torn-line', 'fix'], /'refuse' or 'rotate', not 'fix'/],
      [['--audit-sync', 'background'], /--audit-sync needs --audit FILE/],
      [['--audit', 'a.jsonl', '--audit-sync', 'never'], /'always' or 'background', not 'never'/],
    ];
    for (const [flags, message] of cases) {
      const result = await kvlar(
        ['proxy', '--stdio', '--policy', 'policy.yaml', ...flags, '--', 'node', '-e', ''],
        { cwd: dir },
      );
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(await readdir(dir)).toEqual(['policy.yaml']);
  });
});
