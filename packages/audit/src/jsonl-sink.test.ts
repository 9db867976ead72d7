import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import {
  appendFile,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions, tempDirectory } from '../test/fixtures.js';
import { describeSinkContract } from './contract.js';
import {
  AuditError,
  type AuditSink,
  createJsonlSink,
  type JsonlSinkOptions,
  type VerifyWarning,
  verifyChain,
  verifyFiles,
} from './index.js';
import { acquireWriterLock } from './writer-lock.js';

/** Every record line of every log file in `directory`, oldest first (names sort by index). */
async function allLines(directory: string): Promise<string[]> {
  const logs = (await readdir(directory)).filter((name) => name.endsWith('.jsonl'));
  const names = logs.sort((a, b) =>
    a === 'audit.jsonl' ? 1 : b === 'audit.jsonl' ? -1 : a.localeCompare(b),
  );
  const texts = await Promise.all(names.map((name) => readFile(join(directory, name), 'utf8')));
  return texts.flatMap((text) => text.split('\n').slice(0, -1));
}

// Both syncs, each plain and rotating at every record.
const contractVariants: readonly [string, Partial<JsonlSinkOptions>][] = [
  ['createJsonlSink', {}],
  ['createJsonlSink rotating at every record', { maxBytes: 1 }],
  ["createJsonlSink with sync: 'always'", { sync: 'always' }],
  [
    "createJsonlSink with sync: 'always', rotating at every record",
    { maxBytes: 1, sync: 'always' },
  ],
];
for (const [name, variant] of contractVariants) {
  describeSinkContract(
    name,
    async (options) => {
      const directory = await tempDirectory();
      const path = join(directory, 'audit.jsonl');
      const sink = await createJsonlSink({ ...options, ...variant, path });
      return { sink, chained: true, lines: () => allLines(directory) };
    },
    { describe, it },
  );
}

async function open(directory: string, overrides: Partial<JsonlSinkOptions> = {}) {
  return createJsonlSink({
    ...fixedRecordOptions(),
    path: join(directory, 'audit.jsonl'),
    ...overrides,
  });
}

async function writeMany(sink: AuditSink, count: number, prefix = 'tool'): Promise<void> {
  for (let i = 0; i < count; i++) await sink.write(entry({ resource: `${prefix}_${i}` }));
}

function parse(line: string | undefined): { prev_hash: string; hash: string; id: string } {
  return JSON.parse(line ?? '') as { prev_hash: string; hash: string; id: string };
}

const failsWith =
  (code: string, ...fragments: string[]) =>
  (error: unknown) =>
    AuditError.isInstance(error) &&
    error.code === code &&
    fragments.every((fragment) => error.message.includes(fragment));

describe('createJsonlSink', () => {
  it('creates missing directories and writes one canonical record per line', async () => {
    const directory = join(await tempDirectory(), 'nested', 'logs');
    const sink = await open(directory);
    await writeMany(sink, 2);
    await sink.close();
    const text = await readFile(join(directory, 'audit.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.split('\n').slice(0, -1);
    expect(lines.map((line) => parse(line).id)).toEqual(['id-1', 'id-2']);
    expect(verifyChain(lines)).toMatchObject({ ok: true, records: 2 });
  });

  it('resumes the chain from the last record after a restart', async () => {
    const directory = await tempDirectory();
    const first = await open(directory);
    await writeMany(first, 3);
    await first.close();
    const second = await open(directory, fixedRecordOptions('2025-03-02T00:00:00.000Z'));
    expect(second.lastHash).toBe(first.lastHash);
    await writeMany(second, 2, 'later');
    await second.close();
    const lines = await allLines(directory);
    expect(lines).toHaveLength(5);
    expect(parse(lines[3]).prev_hash).toBe(parse(lines[2]).hash);
    expect(verifyChain(lines)).toMatchObject({ ok: true, records: 5, lastHash: second.lastHash });
  });

  it('keeps call order and the chain under hundreds of concurrent writes', async () => {
    const directory = await tempDirectory();
    const sink = await open(directory);
    const names = Array.from({ length: 300 }, (_, i) => `tool_${String(i).padStart(3, '0')}`);
    await Promise.all(names.map((resource) => sink.write(entry({ resource }))));
    await sink.close();
    const lines = await allLines(directory);
    expect(lines.map((line) => (JSON.parse(line) as { resource: string }).resource)).toEqual(names);
    expect(verifyChain(lines)).toMatchObject({ ok: true, records: 300 });
  });

  it('rotates by size and continues the chain into the next file', async () => {
    const directory = await tempDirectory();
    const sink = await open(directory, { maxBytes: 1200 });
    await writeMany(sink, 7);
    await sink.close();
    const names = (await readdir(directory)).sort();
    expect(names.length).toBeGreaterThan(2);
    expect(names.at(-1)).toBe('audit.jsonl');
    expect(names[0]).toMatch(/^audit-20250301T\d{6}Z-000001\.jsonl$/);
    for (const name of names) {
      const text = await readFile(join(directory, name), 'utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1200);
    }
    const firstFile = (await readFile(join(directory, names[0] ?? ''), 'utf8')).split('\n');
    const secondFile = (await readFile(join(directory, names[1] ?? ''), 'utf8')).split('\n');
    expect(parse(secondFile[0]).prev_hash).toBe(parse(firstFile.at(-2)).hash);
    expect(await verifyFiles(directory)).toMatchObject({
      ok: true,
      files: names.length,
      records: 7,
    });
  });

  it('rotates the file a symlink names, not the link, and is verified by either name', async () => {
    const directory = await tempDirectory();
    await mkdir(join(directory, 'logs'));
    await symlink(join(directory, 'logs', 'audit.jsonl'), join(directory, 'alias.jsonl'));
    const sink = await open(directory, { path: join(directory, 'alias.jsonl'), maxBytes: 1200 });
    await writeMany(sink, 7);
    await sink.close();
    // The link still names the log; the rotated files are the log's, beside it.
    expect(await readlink(join(directory, 'alias.jsonl'))).toBe(
      join(directory, 'logs', 'audit.jsonl'),
    );
    expect((await readdir(directory)).sort()).toEqual(['alias.jsonl', 'logs']);
    const names = (await readdir(join(directory, 'logs'))).sort();
    expect(names.length).toBeGreaterThan(2);
    expect(names.at(-1)).toBe('audit.jsonl');
    for (const path of [join(directory, 'alias.jsonl'), join(directory, 'logs', 'audit.jsonl')]) {
      expect(await verifyFiles(path)).toMatchObject({ ok: true, files: names.length, records: 7 });
    }
  });

  it('creates the log a dangling symlink names, and writes to it through the link', async () => {
    const directory = await tempDirectory();
    await symlink('audit.jsonl', join(directory, 'alias.jsonl'));
    const sink = await open(directory, { path: join(directory, 'alias.jsonl') });
    await writeMany(sink, 2);
    await sink.close();
    expect(await readlink(join(directory, 'alias.jsonl'))).toBe('audit.jsonl');
    expect(await verifyFiles(join(directory, 'audit.jsonl'))).toMatchObject({
      ok: true,
      records: 2,
    });
  });

  it('rotates at the first record of a new UTC day', async () => {
    const directory = await tempDirectory();
    const sink = await open(directory, {
      ...fixedRecordOptions('2025-03-01T23:59:58.000Z'),
      rotateDaily: true,
    });
    await writeMany(sink, 4);
    await sink.close();
    // Records at 23:59:58 and 23:59:59, then 00:00:00; the rotation reads the clock at 00:00:01.
    expect((await readdir(directory)).sort()).toEqual([
      'audit-20250302T000001Z-000001.jsonl',
      'audit.jsonl',
    ]);
    const rotated = await readFile(join(directory, 'audit-20250302T000001Z-000001.jsonl'), 'utf8');
    expect(
      rotated
        .split('\n')
        .slice(0, -1)
        .map((line) => parse(line).id),
    ).toEqual(['id-1', 'id-2']);
    expect(await verifyFiles(join(directory, 'audit.jsonl'))).toMatchObject({
      ok: true,
      records: 4,
    });
  });

  it('resumes from the newest rotated file when a crash left no active file', async () => {
    const directory = await tempDirectory();
    const first = await open(directory, { maxBytes: 1 });
    await writeMany(first, 3);
    await first.close();
    // What a crash between the rotation's rename and the new file's creation leaves behind.
    const { rename } = await import('node:fs/promises');
    await rename(
      join(directory, 'audit.jsonl'),
      join(directory, 'audit-20250301T130000Z-000009.jsonl'),
    );
    const second = await open(directory, { maxBytes: 1 });
    expect(second.lastHash).toBe(first.lastHash);
    await writeMany(second, 1, 'later');
    await second.close();
    expect(await verifyFiles(directory)).toMatchObject({ ok: true, files: 4, records: 4 });
  });

  it('refuses to extend a torn last line and names the file and line', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await open(directory);
    await writeMany(sink, 3);
    await sink.close();
    await appendFile(path, '{"action_type":"tool_call","agent_id":"cl');
    const before = await readFile(path, 'utf8');
    await expect(open(directory)).rejects.toSatisfy(
      failsWith('audit_torn_line', `${path}:4:`, "onTornLine: 'rotate'"),
    );
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('moves a torn file aside as it is and continues the chain when asked to', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const first = await open(directory);
    await writeMany(first, 3);
    await first.close();
    await appendFile(path, '{"action_type":"tool_call","agent_id":"cl');
    const torn = await readFile(path, 'utf8');

    const warnings: VerifyWarning[] = [];
    const clock = fixedRecordOptions('2025-03-01T13:00:00.000Z');
    const second = await open(directory, {
      ...clock,
      onTornLine: 'rotate',
      onWarning: (warning) => warnings.push(warning),
    });
    const aside = join(directory, 'audit-20250301T130000Z-000001.jsonl');
    expect(warnings).toEqual([
      expect.objectContaining({ file: aside, line: 4, reason: 'torn_line' }),
    ]);
    expect(await readFile(aside, 'utf8')).toBe(torn);
    expect(second.lastHash).toBe(first.lastHash);
    await writeMany(second, 1, 'later');
    await second.close();
    expect(await verifyFiles(directory)).toMatchObject({
      ok: true,
      records: 4,
      warnings: [{ file: aside, line: 4, reason: 'torn_line' }],
    });
  });

  it('refuses to extend a log whose last record was edited', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await open(directory);
    await writeMany(sink, 2);
    await sink.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[1] = (lines[1] ?? '').replace('"allowed"', '"denied"');
    await writeFile(path, lines.join('\n'));
    await expect(open(directory)).rejects.toSatisfy(
      failsWith('audit_chain_broken', path, 'does not match its hash'),
    );
  });

  it('refuses to extend a Rust-era log, which has no hashes', async () => {
    const directory = await tempDirectory();
    const rust = {
      id: '7f1c1e9a-4d0e-4a63-9a51-3c1f0a0f8f11',
      timestamp: '2025-01-10T09:15:02.123456789Z',
      action_type: 'tool_call',
      resource: 'bash',
      agent_id: 'mcp-agent',
      outcome: 'denied',
      matched_rule: 'deny-shell',
      reason: 'Shell access denied',
    };
    await writeFile(join(directory, 'audit.jsonl'), `${JSON.stringify(rust)}\n`);
    await expect(open(directory)).rejects.toSatisfy(
      failsWith('audit_chain_broken', 'not a hash-chained Kvlar record'),
    );
  });

  it('starts a new chain in an empty file', async () => {
    const directory = await tempDirectory();
    await writeFile(join(directory, 'audit.jsonl'), '');
    const sink = await open(directory);
    await writeMany(sink, 1);
    await sink.close();
    expect(parse((await allLines(directory))[0]).prev_hash).toBe('0'.repeat(64));
  });

  it('rejects every write once the file cannot be written', async () => {
    const directory = await tempDirectory();
    const sink = await open(directory, { maxBytes: 1 });
    await sink.write(entry());
    // The rotation before the next record renames into a directory that is gone.
    await rm(directory, { recursive: true, force: true });
    const isFailure = failsWith('audit_write_failed', 'audit.jsonl');
    await expect(sink.write(entry())).rejects.toSatisfy(isFailure);
    await expect(sink.write(entry())).rejects.toSatisfy(isFailure);
    await expect(sink.close()).resolves.toBeUndefined();
  });
});

/** The open flags of this process's descriptor for `path`, from /proc (Linux). */
async function openFlags(path: string): Promise<number> {
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
    const flags = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
    if (flags !== undefined) return Number.parseInt(flags, 8);
  }
  throw new Error(`no open descriptor for ${path}`);
}

describe.runIf(process.platform === 'linux')(
  'which durability a JSONL sink opens its file with',
  () => {
    it('writes into the kernel by default (no O_DSYNC) and on disk first with sync: always', async () => {
      const directory = await tempDirectory();
      const byDefault = await createJsonlSink({ path: join(directory, 'default.jsonl') });
      const always = await createJsonlSink({
        path: join(directory, 'always.jsonl'),
        sync: 'always',
      });
      try {
        expect((await openFlags(join(directory, 'default.jsonl'))) & constants.O_DSYNC).toBe(0);
        expect((await openFlags(join(directory, 'always.jsonl'))) & constants.O_DSYNC).toBe(
          constants.O_DSYNC,
        );
      } finally {
        await byDefault.close();
        await always.close();
      }
    });
  },
);

describe("createJsonlSink({sync: 'background'})", () => {
  it('has every record whose write resolved in the file when the process is killed at once', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    // A real process writes 200 records concurrently and says how many resolved; it is killed
    // (SIGKILL, no chance to flush anything of its own) the moment it has said so.
    const script = `
      import { createJsonlSink } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const sink = await createJsonlSink({ path: ${JSON.stringify(path)}, sync: 'background' });
      let resolved = 0;
      const writes = Array.from({ length: 200 }, (_, i) =>
        sink.write({ action_type: 'tool_call', resource: 'r' + i, agent_id: 'x', outcome: 'allowed',
          matched_rule: 'r', session: 's', server: 'v', policy: { name: 'p', version: '1', hash: 'h' } })
          .then(() => { resolved += 1; }));
      await Promise.all(writes);
      process.stdout.write(String(resolved) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const said = await new Promise<string>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))),
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(said.trim()).toBe('200');
    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    expect(lines).toHaveLength(200);
    expect(verifyChain(lines)).toMatchObject({ ok: true, records: 200 });
    expect(lines.map((line) => (JSON.parse(line) as { resource: string }).resource)).toEqual(
      Array.from({ length: 200 }, (_, i) => `r${i}`),
    );
  });

  it('rejects every write once the file cannot be written, as the default does', async () => {
    const directory = await tempDirectory();
    const sink = await open(directory, { maxBytes: 1, sync: 'background' });
    await sink.write(entry());
    await rm(directory, { recursive: true, force: true });
    const isFailure = failsWith('audit_write_failed', 'audit.jsonl');
    await expect(sink.write(entry())).rejects.toSatisfy(isFailure);
    await expect(sink.write(entry())).rejects.toSatisfy(isFailure);
    await expect(sink.close()).resolves.toBeUndefined();
  });

  it('resumes a chain the default sync wrote, and the default resumes its chain', async () => {
    const directory = await tempDirectory();
    const first = await open(directory);
    await writeMany(first, 3, 'always');
    await first.close();
    const second = await open(directory, { sync: 'background' });
    await writeMany(second, 3, 'background');
    await second.close();
    const third = await open(directory);
    await writeMany(third, 3, 'again');
    await third.close();
    expect(verifyChain(await allLines(directory))).toMatchObject({ ok: true, records: 9 });
  });
});

describe('one writer per log', () => {
  it('refuses a second sink on the same file while the first is open, naming the holder', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const first = await createJsonlSink({ path });
    await expect(createJsonlSink({ path })).rejects.toSatisfy(
      (error) =>
        AuditError.isInstance(error) &&
        error.code === 'audit_locked' &&
        error.message.includes(`process ${process.pid}`),
    );
    await first.write(entry());
    await first.close();
    // Closed, the lock is gone: the next writer resumes the chain.
    const second = await createJsonlSink({ path });
    await second.write(entry());
    await second.close();
    expect(verifyChain(await allLines(directory))).toMatchObject({ ok: true, records: 2 });
    expect(await readdir(directory)).toEqual(['audit.jsonl']);
  });

  it.each([
    ['a symlink to the log', 'alias.jsonl', 'audit.jsonl', true],
    [
      'the log through a linked directory, before it exists',
      'linked/audit.jsonl',
      'audit.jsonl',
      false,
    ],
  ])('refuses a second sink naming %s', async (_case, first, second, exists) => {
    const directory = await tempDirectory();
    if (exists) await writeFile(join(directory, 'audit.jsonl'), '');
    await symlink('audit.jsonl', join(directory, 'alias.jsonl'));
    await symlink(directory, join(directory, 'linked'));
    const sink = await createJsonlSink({ path: join(directory, first) });
    await expect(createJsonlSink({ path: join(directory, second) })).rejects.toSatisfy(
      failsWith('audit_locked', `process ${process.pid}`),
    );
    await sink.write(entry());
    await sink.close();
    const lines = (await readFile(join(directory, 'audit.jsonl'), 'utf8')).split('\n');
    expect(verifyChain(lines.slice(0, -1))).toMatchObject({ ok: true, records: 1 });
  });

  it('locks the file a dangling symlink will create, not the link', async () => {
    const directory = await tempDirectory();
    await symlink('audit.jsonl', join(directory, 'alias.jsonl'));
    const lock = await acquireWriterLock(join(directory, 'alias.jsonl'));
    expect(lock.path).toBe(join(await realpath(directory), 'audit.jsonl.lock'));
    await expect(acquireWriterLock(join(directory, 'audit.jsonl'))).rejects.toSatisfy(
      failsWith('audit_locked'),
    );
    await lock.release();
  });

  it('takes over the lock of a writer that died (SIGKILL) and continues its chain', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    // A real process takes the lock, writes a record, and is killed before it can release it.
    const script = `
      import { createJsonlSink } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const sink = await createJsonlSink({ path: ${JSON.stringify(path)} });
      await sink.write({ action_type: 'tool_call', resource: 'a', agent_id: 'x', outcome: 'allowed',
        matched_rule: 'r', session: 's', server: 'v', policy: { name: 'p', version: '1', hash: 'h' } });
      console.log('written');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await expect(createJsonlSink({ path })).rejects.toSatisfy(
      (error) => AuditError.isInstance(error) && error.code === 'audit_locked',
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await readdir(directory)).toContain('audit.jsonl.lock');
    const sink = await createJsonlSink({ path });
    await sink.write(entry());
    await sink.close();
    expect(verifyChain(await allLines(directory))).toMatchObject({ ok: true, records: 2 });
  });

  it('lets exactly one of several processes racing over a stale lock take it over', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const stale = { pid: dead.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z' };
    await writeFile(`${path}.lock`, `${JSON.stringify(stale)}\n`);
    // Each racer waits for the same instant, tries to open the log, holds it a moment, says how
    // it went and when it held it. Before the takeover was atomic, two racers could both delete
    // and re-create the lock. On a busy machine a racer may start only after the winner let go,
    // and then rightly take the log in turn: what must never happen is two holding it at once.
    const start = Date.now() + 400;
    const script = `
      import { createJsonlSink } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      while (Date.now() < ${start}) {}
      try {
        const sink = await createJsonlSink({ path: ${JSON.stringify(path)} });
        const from = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const to = Date.now();
        await sink.close();
        console.log('took it', from, to);
      } catch (error) {
        console.log(error.code);
      }
    `;
    const racers = Array.from(
      { length: 6 },
      () =>
        new Promise<string>((resolve) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            out += chunk;
          });
          child.once('exit', () => resolve(out.trim()));
        }),
    );
    const outcomes = await Promise.all(racers);
    const held = outcomes
      .filter((outcome) => outcome.startsWith('took it'))
      .map((outcome) => outcome.split(' ').slice(2).map(Number) as [number, number])
      .sort(([a], [b]) => a - b);
    expect(held.length).toBeGreaterThan(0);
    expect(outcomes.filter((outcome) => !outcome.startsWith('took it'))).toEqual(
      Array(6 - held.length).fill('audit_locked'),
    );
    for (let i = 1; i < held.length; i++)
      expect(held[i]![0]).toBeGreaterThanOrEqual(held[i - 1]![1]);
    expect(await readdir(directory)).toEqual(['audit.jsonl']);
  });

  it('records a call whose arguments hold a number JSON cannot carry (1e400), with a marker', async () => {
    const directory = await tempDirectory();
    const path = join(directory, 'audit.jsonl');
    const sink = await createJsonlSink({ path });
    const parameters = JSON.parse('{"path":"/","pad":1e400,"deep":[-1e400]}') as unknown;
    await sink.write(entry({ resource: 'rm', outcome: 'denied', parameters }));
    await sink.close();
    const [line] = (await readFile(path, 'utf8')).trim().split('\n');
    expect(JSON.parse(line ?? '')).toMatchObject({
      resource: 'rm',
      outcome: 'denied',
      parameters: {
        path: '/',
        pad: '[REDACTED:non_finite_number]',
        deep: ['[REDACTED:non_finite_number]'],
      },
    });
    expect(verifyChain(await allLines(directory))).toMatchObject({ ok: true, records: 1 });
  });
});
