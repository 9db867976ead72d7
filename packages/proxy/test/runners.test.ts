/**
 * The runners (`startTcpProxy`, `startStdioProxy`) release the reads of the answers they relay
 * once written (docs/adr/026). Released too early, or into a stream that still holds them, an
 * answer would reach the client short or garbled: these tests relay large answers, each of its
 * own text, and compare every byte the client gets with what the server sent.
 */
import { createHash } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { createMemorySink } from '@kvlar/audit';
import { afterEach, describe, expect, it } from 'vitest';
import { startStdioProxy } from '../src/stdio.js';
import { startTcpProxy } from '../src/tcp.js';
import { call, engineFrom } from './harness.js';

const ALLOW_ALL = `name: allow-all
version: "1"
rules:
  - id: allow-all
    match_on: {}
    effect: { type: allow }
`;

/** What the server answers a call for `bytes` characters of `fill`: one line, with no `\n`. */
function answerLine(id: unknown, fill: string, bytes: number): string {
  const text = fill.repeat(Math.ceil(bytes / fill.length)).slice(0, bytes);
  return JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } });
}

/** The same server as a script, for the stdio runner to spawn. */
const SERVER_SCRIPT = `
const answerLine = ${answerLine.toString()};
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\\n')) !== -1) {
    const message = JSON.parse(pending.slice(0, newline));
    pending = pending.slice(newline + 1);
    const args = message.params.arguments;
    process.stdout.write(answerLine(message.id, args.fill, args.bytes) + '\\n');
  }
});
`;

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** Lines read from `stream`, kept as hashes and sizes so that the test holds little memory. */
function hashedLines(stream: NodeJS.ReadableStream): { lines: { sha: string; bytes: number }[] } {
  const seen = { lines: [] as { sha: string; bytes: number }[] };
  let hash = createHash('sha256');
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      hash.update(chunk.subarray(start, newline));
      seen.lines.push({ sha: hash.digest('hex'), bytes: bytes + newline - start });
      hash = createHash('sha256');
      bytes = 0;
      start = newline + 1;
    }
    hash.update(chunk.subarray(start));
    bytes += chunk.length - start;
  });
  return seen;
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Six answers of 3 MB, each of its own text. */
const CALLS = ['abc', 'def', 'ghij', 'klmno', 'pq', 'rstuvw'].map((fill, index) => ({
  id: index + 1,
  fill,
  bytes: 3_000_000 + index,
}));

describe('startTcpProxy', () => {
  it('relays large answers byte for byte to a client that stops reading, releasing them after', async () => {
    // The upstream: answers each call at once, so the answers wait in kvlar while the client
    // is not reading.
    const upstream: Server = createServer((socket) => {
      let pending = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        pending += chunk;
        for (let at = pending.indexOf('\n'); at !== -1; at = pending.indexOf('\n')) {
          const message = JSON.parse(pending.slice(0, at));
          pending = pending.slice(at + 1);
          const { fill, bytes } = message.params.arguments;
          socket.write(`${answerLine(message.id, fill, bytes)}\n`);
        }
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => upstream.close(resolve)));
    const upstreamPort = (upstream.address() as { port: number }).port;

    const written: number[] = [];
    const proxy = await startTcpProxy({
      engine: engineFrom(ALLOW_ALL),
      audit: createMemorySink(),
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { address: { host: '127.0.0.1', port: upstreamPort } },
      onRawWritten: (bytes) => written.push(bytes),
    });
    cleanups.push(() => proxy.close());

    const client: Socket = createConnection(proxy.address.port, '127.0.0.1');
    cleanups.push(async () => client.destroy());
    await new Promise((resolve) => client.once('connect', resolve));
    client.pause();
    const received = hashedLines(client);
    for (const { id, fill, bytes } of CALLS) {
      client.write(`${JSON.stringify(call(id, 'blob', { fill, bytes }))}\n`);
    }
    // 18 MB cannot all fit in the sockets' buffers: kvlar's writes wait for the client.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(written.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThan(
      CALLS.reduce((sum, { bytes }) => sum + bytes, 0),
    );
    client.resume();
    await until(() => received.lines.length === CALLS.length, 'six answers');

    const expected = CALLS.map(({ id, fill, bytes }) => answerLine(id, fill, bytes));
    expect(received.lines).toEqual(
      expected.map((line) => ({ sha: sha256(line), bytes: Buffer.byteLength(line) })),
    );
    const relayed = expected.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    expect(written.reduce((sum, bytes) => sum + bytes, 0)).toBe(relayed);
  }, 30_000);
});

describe('startStdioProxy', () => {
  it('leaves the reads alone when the output is a stream that may hold on to them', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    // A consumer that keeps the chunks it is given, as one that joins a message would.
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const written: number[] = [];
    const proxy = await startStdioProxy({
      engine: engineFrom(ALLOW_ALL),
      audit: createMemorySink(),
      server: { command: process.execPath, args: ['-e', SERVER_SCRIPT] },
      input,
      output,
      onRawWritten: (bytes) => written.push(bytes),
    });
    cleanups.push(() => proxy.stop());
    const calls = CALLS.slice(0, 3);
    for (const { id, fill, bytes } of calls) {
      input.write(`${JSON.stringify(call(id, 'blob', { fill, bytes }))}\n`);
    }
    const expected = calls.map(({ id, fill, bytes }) => `${answerLine(id, fill, bytes)}\n`);
    const relayed = expected.reduce((sum, line) => sum + Buffer.byteLength(line) - 1, 0);
    await until(() => written.reduce((sum, bytes) => sum + bytes, 0) === relayed, 'three answers');
    const received = Buffer.concat(chunks);
    expect(received.length).toBe(relayed + calls.length);
    expect(sha256(received)).toBe(sha256(expected.join('')));
  }, 30_000);
});
