import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions, tempDirectory } from '../test/fixtures.js';
import { describeSinkContract } from './contract.js';
import {
  AuditError,
  createHttpSink,
  GENESIS_HASH,
  type HttpSinkOptions,
  type HttpSinkWarning,
  verifyChain,
} from './index.js';

/** How the collector answers one request: a status, a status with headers, late, or never. */
type Reply =
  | number
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  | 'hang';

interface Collector {
  readonly url: string;
  readonly port: number;
  /** Lines the collector accepted (answered 2xx to), in order. */
  readonly lines: string[];
  readonly requests: { lines: string[]; bytes: number; headers: IncomingHttpHeaders; at: number }[];
  /** Answers for the next requests, in order; then 200. */
  readonly replies: Reply[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A real collector on 127.0.0.1 that keeps what it accepts. */
async function startCollector(port = 0): Promise<Collector> {
  const lines: string[] = [];
  const requests: Collector['requests'] = [];
  const replies: Reply[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const received = body.split('\n').slice(0, -1);
      requests.push({
        lines: received,
        bytes: Buffer.byteLength(body),
        headers: request.headers,
        at: performance.now(),
      });
      const reply = replies.shift() ?? 200;
      if (reply === 'hang') return;
      const {
        status,
        headers,
        body: text,
        delayMs,
      } = typeof reply === 'number' ? { status: reply } : reply;
      const answer = () => {
        if (status >= 200 && status < 300) lines.push(...received);
        response.writeHead(status, headers);
        response.end(text ?? '');
      };
      if (delayMs === undefined) answer();
      else setTimeout(answer, delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/ingest`,
    port: actual,
    lines,
    requests,
    replies,
    close: () => closeServer(server),
  };
}

/** A port nothing listens on (connection refused), which a collector can take later. */
async function closedPort(): Promise<number> {
  const collector = await startCollector();
  await collector.close();
  return collector.port;
}

async function fileLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').slice(0, -1);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function resources(lines: readonly string[]): string[] {
  return lines.map((line) => (JSON.parse(line) as { resource: string }).resource);
}

const isCode = (code: string) => (error: unknown) =>
  AuditError.isInstance(error) && error.code === code;

/** Fast timings for tests; each test overrides what it is about. */
async function setup(url: string, overrides: Partial<HttpSinkOptions> = {}) {
  const spillPath = join(await tempDirectory(), 'spill', 'audit-spill.jsonl');
  const warnings: HttpSinkWarning[] = [];
  const errors: AuditError[] = [];
  const sink = createHttpSink({
    ...fixedRecordOptions(),
    url,
    spillPath,
    flushIntervalMs: 20,
    acceptWithinMs: 2000,
    retryBaseMs: 10,
    retryMaxMs: 100,
    requestTimeoutMs: 2000,
    closeTimeoutMs: 2000,
    onWarning: (warning) => warnings.push(warning),
    onError: (error) => errors.push(error),
    ...overrides,
  });
  return { sink, spillPath, warnings, errors };
}

describeSinkContract(
  'createHttpSink',
  async (options) => {
    const collector = await startCollector();
    const spillPath = join(await tempDirectory(), 'spill.jsonl');
    const sink = createHttpSink({ ...options, url: collector.url, spillPath, flushIntervalMs: 5 });
    return {
      sink,
      chained: true,
      lines: async () => [...collector.lines, ...(await fileLines(spillPath))],
    };
  },
  { describe, it },
);

describeSinkContract(
  'createHttpSink with the collector down',
  async (options) => {
    const url = `http://127.0.0.1:${await closedPort()}/ingest`;
    const spillPath = join(await tempDirectory(), 'spill.jsonl');
    const sink = createHttpSink({
      ...options,
      url,
      spillPath,
      flushIntervalMs: 5,
      acceptWithinMs: 30,
      retryBaseMs: 10,
      retryMaxMs: 50,
    });
    return { sink, chained: true, lines: () => fileLines(spillPath) };
  },
  { describe, it },
);

describe('createHttpSink batching', () => {
  it('posts NDJSON batches of at most maxBatchRecords, with the configured headers', async () => {
    const collector = await startCollector();
    const { sink } = await setup(collector.url, {
      maxBatchRecords: 3,
      headers: { authorization: 'Bearer collector-token' },
    });
    const names = Array.from({ length: 7 }, (_, i) => `tool_${i}`);
    await Promise.all(names.map((resource) => sink.write(entry({ resource }))));
    expect(collector.requests.map((request) => request.lines.length)).toEqual([3, 3, 1]);
    expect(collector.requests[0]?.headers).toMatchObject({
      'content-type': 'application/x-ndjson',
      authorization: 'Bearer collector-token',
    });
    expect(resources(collector.lines)).toEqual(names);
    expect(verifyChain(collector.lines)).toMatchObject({ ok: true, records: 7 });
    expect(sink.stats()).toMatchObject({ sent: 7, spilled: 0, retries: 0, buffered: 0 });
    await sink.close();
  });

  it('keeps each request within maxBatchBytes, and sends a larger record alone', async () => {
    const collector = await startCollector();
    const { sink } = await setup(collector.url, { maxBatchBytes: 1500 });
    const writes = Array.from({ length: 6 }, (_, i) =>
      sink.write(entry({ resource: `tool_${i}` })),
    );
    writes.push(sink.write(entry({ resource: 'big', parameters: { text: 'x'.repeat(4000) } })));
    await Promise.all(writes);
    const sizes = collector.requests.map((request) => request.bytes);
    expect(sizes.length).toBeGreaterThan(2);
    expect(sizes.slice(0, -1).every((bytes) => bytes <= 1500)).toBe(true);
    expect(collector.requests.at(-1)?.lines).toHaveLength(1);
    expect(collector.requests.at(-1)?.bytes).toBeGreaterThan(4000);
    expect(verifyChain(collector.lines)).toMatchObject({ ok: true, records: 7 });
    await sink.close();
  });

  it('sends a batch flushIntervalMs after its first record, with what came meanwhile', async () => {
    const collector = await startCollector();
    // Every other timer is a minute away: a batch that waited for one would time the test out.
    const { sink } = await setup(collector.url, {
      flushIntervalMs: 1000,
      acceptWithinMs: 60_000,
      requestTimeoutMs: 60_000,
    });
    const started = performance.now();
    const first = sink.write(entry({ resource: 'first' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(collector.requests).toEqual([]);
    const second = sink.write(entry({ resource: 'second' }));
    await Promise.all([first, second]);
    // Not before the interval (timers never fire early; 1 ms for their rounding).
    expect(performance.now() - started).toBeGreaterThanOrEqual(999);
    expect(collector.requests.map((request) => request.lines.length)).toEqual([2]);
    await sink.close();
  });
});

describe('createHttpSink retries', () => {
  it('retries after 503s and delivers each record once, in order', async () => {
    const collector = await startCollector();
    collector.replies.push(503, 503);
    const { sink, warnings } = await setup(collector.url);
    const names = ['a', 'b', 'c'];
    await Promise.all(names.map((resource) => sink.write(entry({ resource }))));
    await sink.write(entry({ resource: 'd' }));
    expect(collector.requests).toHaveLength(4);
    expect(resources(collector.lines)).toEqual(['a', 'b', 'c', 'd']);
    expect(verifyChain(collector.lines)).toMatchObject({ ok: true, records: 4 });
    expect(sink.stats()).toMatchObject({ sent: 4, retries: 2, spilled: 0, dropped: 0 });
    expect(warnings.map((warning) => warning.reason)).toEqual([
      'collector_unavailable',
      'collector_recovered',
    ]);
    expect(warnings[0]?.message).toContain('answered 503');
    await sink.close();
  });

  it('backs off exponentially, with at least half of each delay kept under jitter', async () => {
    const collector = await startCollector();
    collector.replies.push(503, 503, 503);
    const { sink } = await setup(collector.url, {
      retryBaseMs: 100,
      retryMaxMs: 1000,
      random: () => 0,
    });
    await sink.write(entry());
    const at = collector.requests.map((request) => request.at);
    const gaps = at.slice(1).map((time, i) => time - (at[i] ?? 0));
    // random() = 0 picks the shortest delay: half of 100, 200, 400 ms.
    expect(gaps).toHaveLength(3);
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    expect(gaps[2]).toBeLessThan(390);
    expect(sink.stats()).toMatchObject({ sent: 1, retries: 3 });
    await sink.close();
  });

  it('waits as long as Retry-After says after a 429', async () => {
    const collector = await startCollector();
    collector.replies.push({ status: 429, headers: { 'retry-after': '1' } });
    const { sink } = await setup(collector.url, { retryMaxMs: 5000, acceptWithinMs: 5000 });
    await sink.write(entry());
    const [first, second] = collector.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(collector.lines).toHaveLength(1);
    expect(sink.stats()).toMatchObject({ sent: 1, retries: 1 });
    await sink.close();
  });

  it('keeps a batch the collector refuses (400) in the rejected file, reports it and goes on', async () => {
    const collector = await startCollector();
    collector.replies.push({ status: 400, body: 'unknown field "shadow"' });
    const { sink, spillPath, errors } = await setup(collector.url);
    await sink.write(entry({ resource: 'refused' }));
    await sink.write(entry({ resource: 'accepted' }));
    expect(resources(await fileLines(`${spillPath}.rejected`))).toEqual(['refused']);
    expect(resources(collector.lines)).toEqual(['accepted']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toSatisfy(isCode('audit_collector_rejected'));
    expect(errors[0]?.message).toContain('answered 400: unknown field "shadow"');
    expect(sink.stats()).toMatchObject({ failedBatches: 1, rejected: 1, sent: 1, retries: 0 });
    // The refused record and the rest are one chain: nothing was lost, only kept elsewhere.
    const all = [...(await fileLines(`${spillPath}.rejected`)), ...collector.lines];
    expect(verifyChain(all)).toMatchObject({ ok: true, records: 2 });
    await sink.close();
  });
});

describe('createHttpSink with the collector down', () => {
  it('spills to the file when the connection is refused, resolves writes, and re-sends in order on recovery', async () => {
    const port = await closedPort();
    const { sink, spillPath, warnings } = await setup(`http://127.0.0.1:${port}/ingest`, {
      acceptWithinMs: 100,
    });
    // The collector starts only below: the writes resolve without it.
    await Promise.all(['a', 'b', 'c'].map((resource) => sink.write(entry({ resource }))));
    // Once records wait in the spill file, later ones go straight behind them.
    await sink.write(entry({ resource: 'd' }));
    expect(resources(await fileLines(spillPath))).toEqual(['a', 'b', 'c', 'd']);
    expect(sink.stats()).toMatchObject({ spilled: 4, sent: 0, dropped: 0, buffered: 0 });
    expect(sink.stats().retries).toBeGreaterThan(0);

    const collector = await startCollector(port);
    await waitFor(() => sink.stats().resent === 4);
    await sink.write(entry({ resource: 'e' }));
    expect(resources(collector.lines)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(verifyChain(collector.lines)).toMatchObject({ ok: true, records: 5 });
    expect((await stat(spillPath)).size).toBe(0);
    expect(sink.stats()).toMatchObject({ spilled: 4, resent: 4, sent: 1, dropped: 0 });
    expect(warnings.map((warning) => warning.reason)).toEqual([
      'collector_unavailable',
      'spilling',
      'collector_recovered',
    ]);
    await sink.close();
  });

  it('spills when the collector hangs, and does not resend what a late answer accepted', async () => {
    const collector = await startCollector();
    collector.replies.push('hang');
    const { sink, spillPath } = await setup(collector.url, {
      acceptWithinMs: 100,
      requestTimeoutMs: 2000,
    });
    await sink.write(entry({ resource: 'a' }));
    // Resolved at its deadline, by the spill: the hung request has not timed out yet.
    expect(sink.stats()).toMatchObject({ spilled: 1, retries: 0 });
    expect(resources(await fileLines(spillPath))).toEqual(['a']);
    await waitFor(() => sink.stats().resent === 1);
    expect(resources(collector.lines)).toEqual(['a']);
    expect(sink.stats()).toMatchObject({ spilled: 1, resent: 1, retries: 1 });
    expect((await stat(spillPath)).size).toBe(0);

    // A slow answer: the record is spilled at its deadline, then the collector accepts it.
    collector.replies.push({ status: 200, delayMs: 250 });
    await sink.write(entry({ resource: 'b' }));
    expect(resources(await fileLines(spillPath))).toEqual(['b']);
    await waitFor(async () => (await stat(spillPath)).size === 0);
    await sink.write(entry({ resource: 'c' }));
    expect(resources(collector.lines)).toEqual(['a', 'b', 'c']);
    expect(verifyChain(collector.lines)).toMatchObject({ ok: true, records: 3 });
    expect(sink.stats()).toMatchObject({ spilled: 2, resent: 1, sent: 2 });
    await sink.close();
  });

  it('spills everything once the memory buffer is full', async () => {
    const port = await closedPort();
    const { sink, spillPath } = await setup(`http://127.0.0.1:${port}/ingest`, {
      acceptWithinMs: 60_000,
      maxBufferedRecords: 5,
    });
    const writes = Array.from({ length: 6 }, (_, i) => sink.write(entry({ resource: `t${i}` })));
    await Promise.all(writes);
    expect(await fileLines(spillPath)).toHaveLength(6);
    expect(sink.stats()).toMatchObject({ spilled: 6, buffered: 0 });
    await sink.close();
  });

  it('sends what an earlier run spilled before its own records', async () => {
    const port = await closedPort();
    const earlier = await setup(`http://127.0.0.1:${port}/ingest`, { acceptWithinMs: 50 });
    await earlier.sink.write(entry({ resource: 'earlier_1' }));
    await earlier.sink.write(entry({ resource: 'earlier_2' }));
    await earlier.sink.close();
    // A crash in the middle of a spill leaves a torn line: it is cut off, never sent.
    await writeFile(earlier.spillPath, '{"action_type":"tool_c', { flag: 'a' });

    const collector = await startCollector();
    const warnings: HttpSinkWarning[] = [];
    const later = createHttpSink({
      url: collector.url,
      spillPath: earlier.spillPath,
      flushIntervalMs: 5,
      onWarning: (warning) => warnings.push(warning),
    });
    // Written behind the earlier records (once start-up found them), and sent from the file too.
    await later.write(entry({ resource: 'later' }));
    // The collector has the lines before the sink has read its answer and counted them.
    await waitFor(() => collector.lines.length === 3 && later.stats().resent === 3);
    expect(resources(collector.lines)).toEqual(['earlier_1', 'earlier_2', 'later']);
    expect(later.stats()).toMatchObject({ resent: 3, sent: 0 });
    expect(warnings.map((warning) => warning.reason)).toEqual(['spill_torn_line']);
    await later.close();
    expect((await stat(earlier.spillPath)).size).toBe(0);
  });

  it('counts and reports a record it can neither send nor spill, and rejects its write', async () => {
    const port = await closedPort();
    const { sink, errors } = await setup(`http://127.0.0.1:${port}/ingest`, {
      acceptWithinMs: 50,
      // /dev/null is not a directory, so the spill file's directory cannot be created.
      spillPath: '/dev/null/kvlar/spill.jsonl',
    });
    await expect(sink.write(entry())).rejects.toSatisfy(isCode('audit_write_failed'));
    expect(sink.stats()).toMatchObject({ dropped: 1, spilled: 0 });
    // Reported at start-up (the spill file cannot be checked) and when the record was dropped.
    expect(errors.every(isCode('audit_write_failed'))).toBe(true);
    expect(errors.at(-1)?.message).toContain('reached neither');
    expect(errors.at(-1)?.message).toContain('/dev/null/kvlar/spill.jsonl');
    await sink.close();
  });

  it.runIf(process.platform === 'linux')(
    'counts a record as dropped when the spill device is full (/dev/full)',
    async () => {
      const port = await closedPort();
      const { sink, errors } = await setup(`http://127.0.0.1:${port}/ingest`, {
        acceptWithinMs: 50,
        spillPath: '/dev/full',
        rejectedPath: '/dev/full',
      });
      await expect(sink.write(entry())).rejects.toSatisfy(isCode('audit_write_failed'));
      await expect(sink.write(entry())).rejects.toSatisfy(isCode('audit_write_failed'));
      expect(sink.stats()).toMatchObject({ dropped: 2, spilled: 0 });
      expect(errors.every(isCode('audit_write_failed'))).toBe(true);
      await sink.close();
    },
  );

  it('spills everything still in memory when closed while the collector is down', async () => {
    const port = await closedPort();
    const { sink, spillPath } = await setup(`http://127.0.0.1:${port}/ingest`, {
      acceptWithinMs: 60_000,
      closeTimeoutMs: 60_000,
    });
    const writes = ['a', 'b', 'c'].map((resource) => sink.write(entry({ resource })));
    // Both timeouts are a minute away: a close that waited for either would time the test out.
    await sink.close();
    await expect(Promise.all(writes)).resolves.toBeDefined();
    expect(resources(await fileLines(spillPath))).toEqual(['a', 'b', 'c']);
    expect(verifyChain(await fileLines(spillPath))).toMatchObject({ ok: true, records: 3 });
    expect(sink.stats()).toMatchObject({ spilled: 3, buffered: 0 });
    await expect(sink.write(entry())).rejects.toSatisfy(isCode('audit_sink_closed'));
  });

  it('spills at closeTimeoutMs when the collector hangs during close', async () => {
    const collector = await startCollector();
    collector.replies.push('hang');
    const { sink, spillPath } = await setup(collector.url, {
      acceptWithinMs: 60_000,
      requestTimeoutMs: 60_000,
      closeTimeoutMs: 200,
    });
    const write = sink.write(entry({ resource: 'a' }));
    // The request's own timeout is a minute away: only closeTimeoutMs can end this close.
    await sink.close();
    await expect(write).resolves.toBeUndefined();
    expect(resources(await fileLines(spillPath))).toEqual(['a']);
  });
});

describe('createHttpSink: one sink per spill file', () => {
  it('refuses a spill file another live sink holds: every write rejects with audit_locked, nothing is sent or spilled', async () => {
    const port = await closedPort();
    const first = await setup(`http://127.0.0.1:${port}/ingest`, { acceptWithinMs: 50 });
    await first.sink.write(entry({ resource: 'first' }));

    const collector = await startCollector();
    const errors: AuditError[] = [];
    const second = createHttpSink({
      ...fixedRecordOptions(),
      url: collector.url,
      spillPath: first.spillPath,
      flushIntervalMs: 5,
      acceptWithinMs: 50,
      onError: (error) => errors.push(error),
    });
    const namesTheHolder = (error: unknown) =>
      isCode('audit_locked')(error) &&
      (error as AuditError).message.includes(`process ${process.pid}`) &&
      (error as AuditError).message.includes(`${first.spillPath}.lock`);
    // The first write comes before the lock was checked, the second after.
    await expect(second.write(entry({ resource: 'second_1' }))).rejects.toSatisfy(namesTheHolder);
    await expect(second.write(entry({ resource: 'second_2' }))).rejects.toSatisfy(namesTheHolder);
    expect(second.stats()).toMatchObject({ dropped: 2, sent: 0, spilled: 0, buffered: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toSatisfy(namesTheHolder);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await second.close();
    expect(collector.requests).toHaveLength(0);
    expect(resources(await fileLines(first.spillPath))).toEqual(['first']);

    // The second sink's close leaves the holder's lock alone; the holder's own close removes it,
    // and the next sink sends what it spilled.
    expect(await readdir(dirname(first.spillPath))).toContain('audit-spill.jsonl.lock');
    await first.sink.close();
    expect((await readdir(dirname(first.spillPath))).sort()).toEqual([
      'audit-spill.jsonl',
      'audit-spill.jsonl.head',
    ]);
    const third = createHttpSink({
      url: collector.url,
      spillPath: first.spillPath,
      flushIntervalMs: 5,
    });
    await third.write(entry({ resource: 'third' }));
    await waitFor(() => collector.lines.length === 2);
    expect(resources(collector.lines)).toEqual(['first', 'third']);
    await third.close();
  });

  it('takes over the spill file lock of a process that died, sends what it left, and removes the lock on close', async () => {
    const port = await closedPort();
    const earlier = await setup(`http://127.0.0.1:${port}/ingest`, { acceptWithinMs: 50 });
    await earlier.sink.write(entry({ resource: 'earlier' }));
    await earlier.sink.close();
    // As if that run had been killed: its lock is still there, naming a process that has exited.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const stale = { pid: dead.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z' };
    await writeFile(`${earlier.spillPath}.lock`, `${JSON.stringify(stale)}\n`);

    const collector = await startCollector();
    const later = await setup(collector.url, { spillPath: earlier.spillPath });
    await later.sink.write(entry({ resource: 'later' }));
    await waitFor(() => collector.lines.length === 2);
    expect(resources(collector.lines)).toEqual(['earlier', 'later']);
    expect(later.errors).toEqual([]);
    const held = JSON.parse(await readFile(`${earlier.spillPath}.lock`, 'utf8')) as { pid: number };
    expect(held.pid).toBe(process.pid);
    await later.sink.close();
    expect((await readdir(dirname(earlier.spillPath))).sort()).toEqual([
      'audit-spill.jsonl',
      'audit-spill.jsonl.head',
    ]);
  });
});

describe('createHttpSink: maxSpillBytes', () => {
  it('drops what would take the spill file past maxSpillBytes, reports spill_full once, and spills again once the file is emptied', async () => {
    const port = await closedPort();
    const maxSpillBytes = 1600; // a few records
    const { sink, spillPath, warnings, errors } = await setup(`http://127.0.0.1:${port}/ingest`, {
      acceptWithinMs: 50,
      requestTimeoutMs: 300,
      maxSpillBytes,
    });
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const outcomes: unknown[] = [];
    for (const resource of names) {
      outcomes.push(
        await sink.write(entry({ resource })).then(
          () => 'kept',
          (error) => error,
        ),
      );
      expect((await stat(spillPath)).size).toBeLessThanOrEqual(maxSpillBytes);
    }
    // Written one at a time: those that fit are spilled, and every later one is dropped.
    const kept = outcomes.findIndex((outcome) => outcome !== 'kept');
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(resources(await fileLines(spillPath))).toEqual(names.slice(0, kept));
    const lineBytes = (await stat(spillPath)).size / kept;
    expect(kept).toBe(Math.floor(maxSpillBytes / lineBytes));
    for (const outcome of outcomes.slice(kept)) {
      expect(outcome).toSatisfy(isCode('audit_write_failed'));
      expect((outcome as AuditError).message).toContain(`the spill file ${spillPath} is full`);
    }
    expect(sink.stats()).toMatchObject({ spilled: kept, dropped: names.length - kept, sent: 0 });
    expect(errors).toHaveLength(names.length - kept);
    expect(errors.every(isCode('audit_write_failed'))).toBe(true);
    expect(warnings.filter((warning) => warning.reason === 'spill_full')).toHaveLength(1);

    // The collector is back: the file is delivered and emptied, and records spill again.
    const collector = await startCollector(port);
    await waitFor(async () => (await stat(spillPath)).size === 0);
    expect(resources(collector.lines)).toEqual(names.slice(0, kept));
    collector.replies.push('hang');
    await sink.write(entry({ resource: 'g' }));
    expect(resources(await fileLines(spillPath))).toEqual(['g']);
    await waitFor(() => sink.stats().resent === kept + 1);
    expect(resources(collector.lines)).toEqual([...names.slice(0, kept), 'g']);
    expect(sink.stats()).toMatchObject({
      spilled: kept + 1,
      resent: kept + 1,
      dropped: names.length - kept,
    });
    expect(warnings.filter((warning) => warning.reason === 'spill_full')).toHaveLength(1);
    await sink.close();
  });

  it('counts what an earlier run left in the spill file against maxSpillBytes', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/ingest`;
    const earlier = await setup(url, { acceptWithinMs: 50 });
    await earlier.sink.write(entry({ resource: 'earlier_1' }));
    await earlier.sink.write(entry({ resource: 'earlier_2' }));
    await earlier.sink.close();
    const left = (await stat(earlier.spillPath)).size;

    const later = await setup(url, {
      spillPath: earlier.spillPath,
      acceptWithinMs: 50,
      maxSpillBytes: left + 100,
    });
    await expect(later.sink.write(entry({ resource: 'later_1' }))).rejects.toSatisfy(
      isCode('audit_write_failed'),
    );
    expect((await stat(earlier.spillPath)).size).toBe(left);
    expect(later.sink.stats()).toMatchObject({ spilled: 0, dropped: 1 });
    expect(later.warnings.map((warning) => warning.reason)).toContain('spill_full');

    const collector = await startCollector(port);
    await waitFor(async () => (await stat(earlier.spillPath)).size === 0);
    await later.sink.write(entry({ resource: 'later_2' }));
    expect(resources(collector.lines)).toEqual(['earlier_1', 'earlier_2', 'later_2']);
    await later.sink.close();
  });
});

describe('createHttpSink: the chain across restarts', () => {
  const hashOf = (line: string | undefined) => (JSON.parse(line ?? '{}') as { hash: string }).hash;
  const prevHashOf = (line: string | undefined) =>
    (JSON.parse(line ?? '{}') as { prev_hash: string }).prev_hash;

  it('links the first record of a run to the last of the run before: the collector receives one chain', async () => {
    const collector = await startCollector();
    const first = await setup(collector.url);
    await first.sink.write(entry({ resource: 'first_1' }));
    await first.sink.write(entry({ resource: 'first_2' }));
    await first.sink.close();
    expect(first.sink.startHash).toBe(GENESIS_HASH);

    const second = await setup(collector.url, { spillPath: first.spillPath });
    await second.sink.write(entry({ resource: 'second_1' }));
    await second.sink.close();
    expect(second.sink.startHash).toBe(first.sink.lastHash);
    expect(prevHashOf(collector.lines[2])).toBe(hashOf(collector.lines[1]));
    expect(resources(collector.lines)).toEqual(['first_1', 'first_2', 'second_1']);
    expect(verifyChain(collector.lines)).toMatchObject({ ok: true, records: 3 });
    // What this is for: the end of a run deleted at the collector no longer goes unnoticed.
    const withoutFirstEnd = [collector.lines[0] ?? '', collector.lines[2] ?? ''];
    expect(verifyChain(withoutFirstEnd)).toMatchObject({ ok: false });
  });

  it('sends what a run spilled first and links its own records after the last of them: one chain across both runs', async () => {
    const before = await startCollector();
    const first = await setup(before.url, { acceptWithinMs: 100 });
    await first.sink.write(entry({ resource: 'sent' }));
    await before.close();
    await first.sink.write(entry({ resource: 'spilled_1' }));
    await first.sink.write(entry({ resource: 'spilled_2' }));
    await first.sink.close();
    const spilled = await fileLines(first.spillPath);
    expect(resources(spilled)).toEqual(['spilled_1', 'spilled_2']);

    const after = await startCollector(before.port);
    const second = await setup(after.url, { spillPath: first.spillPath });
    await second.sink.write(entry({ resource: 'second' }));
    await waitFor(() => after.lines.length === 3);
    await second.sink.close();
    expect(second.sink.startHash).toBe(hashOf(spilled[1]));
    const stream = [...before.lines, ...after.lines];
    expect(resources(stream)).toEqual(['sent', 'spilled_1', 'spilled_2', 'second']);
    expect(verifyChain(stream)).toMatchObject({ ok: true, records: 4 });
    expect(second.sink.stats()).toMatchObject({ resent: 3, sent: 0 });
  });

  it('refuses a head file that is not 64 lower-case hex digits: every write rejects with audit_chain_broken naming it, and nothing is sent', async () => {
    const collector = await startCollector();
    const hash = 'a'.repeat(64);
    const corrupt = [
      '',
      'not a hash\n',
      `${hash.toUpperCase()}\n`,
      `${hash.slice(1)}\n`,
      `${hash}\n\n`,
    ];
    for (const text of corrupt) {
      const spillPath = join(await tempDirectory(), 'spill.jsonl');
      const headPath = `${spillPath}.head`;
      await writeFile(headPath, text);
      const errors: AuditError[] = [];
      const sink = createHttpSink({
        url: collector.url,
        spillPath,
        flushIntervalMs: 5,
        onError: (error) => errors.push(error),
      });
      const namesTheHead = (error: unknown) =>
        isCode('audit_chain_broken')(error) && (error as AuditError).message.includes(headPath);
      // The first write waits for start-up, the second comes after it.
      await expect(sink.write(entry())).rejects.toSatisfy(namesTheHead);
      await expect(sink.write(entry())).rejects.toSatisfy(namesTheHead);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toSatisfy(namesTheHead);
      expect(sink.startHash).toBeUndefined();
      expect(sink.stats()).toMatchObject({ dropped: 2, sent: 0, spilled: 0 });
      await sink.close();
      expect(await readFile(headPath, 'utf8')).toBe(text);
    }
    expect(collector.requests).toHaveLength(0);
  });

  it('refuses to extend a spill file whose last record does not verify', async () => {
    const collector = await startCollector();
    const spillPath = join(await tempDirectory(), 'spill.jsonl');
    await writeFile(spillPath, '{"resource":"not a chained record"}\n');
    const { sink, errors } = await setup(collector.url, { spillPath });
    const namesTheSpill = (error: unknown) =>
      isCode('audit_chain_broken')(error) && (error as AuditError).message.includes(spillPath);
    await expect(sink.write(entry())).rejects.toSatisfy(namesTheSpill);
    expect(errors).toHaveLength(1);
    await sink.close();
    expect(collector.requests).toHaveLength(0);
  });

  it('moves a stale head file past the records an earlier run spilled, so it is right once they are delivered', async () => {
    const port = await closedPort();
    const down = await setup(`http://127.0.0.1:${port}/ingest`, { acceptWithinMs: 50 });
    await down.sink.write(entry({ resource: 'a' }));
    await down.sink.write(entry({ resource: 'b' }));
    await down.sink.close();
    // As after a crash between a spill and the head's update.
    await writeFile(`${down.spillPath}.head`, `${GENESIS_HASH}\n`);

    const collector = await startCollector(port);
    const delivering = await setup(collector.url, { spillPath: down.spillPath });
    await waitFor(async () => (await stat(down.spillPath)).size === 0);
    await delivering.sink.close();
    const later = await setup(collector.url, { spillPath: down.spillPath });
    await later.sink.write(entry({ resource: 'c' }));
    await later.sink.close();
    expect(resources(collector.lines)).toEqual(['a', 'b', 'c']);
    expect(verifyChain(collector.lines)).toMatchObject({ ok: true, records: 3 });
  });

  it('keeps the hash of the last durable record, sent or spilled, in the head file, written before the write resolves', async () => {
    const collector = await startCollector();
    const headPath = join(await tempDirectory(), 'elsewhere', 'chain.head');
    const head = () => readFile(headPath, 'utf8');
    const sent = await setup(collector.url, { headPath });
    await sent.sink.write(entry({ resource: 'a' }));
    expect(await head()).toBe(`${hashOf(collector.lines[0])}\n`);
    await sent.sink.write(entry({ resource: 'b' }));
    await sent.sink.close();
    expect(await head()).toBe(`${hashOf(collector.lines[1])}\n`);
    expect(sent.sink.lastHash).toBe(hashOf(collector.lines[1]));

    const port = await closedPort();
    const down = await setup(`http://127.0.0.1:${port}/ingest`, { headPath, acceptWithinMs: 50 });
    await down.sink.write(entry({ resource: 'c' }));
    const [spilled] = await fileLines(down.spillPath);
    expect(await head()).toBe(`${hashOf(spilled)}\n`);
    await down.sink.close();
    expect(down.sink.startHash).toBe(sent.sink.lastHash);
    expect(await head()).toBe(`${down.sink.lastHash}\n`);
    expect(await readdir(dirname(headPath))).toEqual(['chain.head']);
  });

  it('takes a head file without its newline, and starts from its hash', async () => {
    const collector = await startCollector();
    const spillPath = join(await tempDirectory(), 'spill.jsonl');
    const hash = 'c'.repeat(64);
    await writeFile(`${spillPath}.head`, hash);
    const { sink } = await setup(collector.url, { spillPath });
    await sink.write(entry());
    expect(sink.startHash).toBe(hash);
    expect(prevHashOf(collector.lines[0])).toBe(hash);
    expect(verifyChain(collector.lines, { startHash: hash })).toMatchObject({ ok: true });
    await sink.close();
  });
});

describe('createHttpSink options', () => {
  it('refuses a url that is not a URL and a non-positive limit', async () => {
    const spillPath = join(await tempDirectory(), 'spill.jsonl');
    expect(() => createHttpSink({ url: 'not a url', spillPath })).toThrow(
      expect.objectContaining({ code: 'invalid_input' }),
    );
    expect(() =>
      createHttpSink({ url: 'http://127.0.0.1:1/', spillPath, maxBatchRecords: 0 }),
    ).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(() =>
      createHttpSink({ url: 'http://127.0.0.1:1/', spillPath, maxSpillBytes: -1 }),
    ).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
});
