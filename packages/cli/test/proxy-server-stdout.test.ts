/**
 * A server that closes its stdout but keeps running (a crashed writer thread, a server that
 * redirects its output): the client must still get an answer, and the server must not be left
 * behind. Cited by docs/security.md.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, tempDir } from './helpers.js';
import { auditRecords, isObject, type JsonObject, waitUntilGone } from './proxy-helpers.js';

/** Answers initialize; on the first tools/call closes its stdout and goes on running. */
const SERVER = `
import { closeSync, writeFileSync } from 'node:fs';
writeFileSync(process.argv[2], String(process.pid));
setInterval(() => {}, 60_000);
let buffered = '';
process.stdin.setEncoding('utf8').on('data', (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf('\\n')) !== -1) {
    const message = JSON.parse(buffered.slice(0, newline));
    buffered = buffered.slice(newline + 1);
    if (message.method === 'initialize') {
      process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: {
        protocolVersion: '2025-06-18', capabilities: { tools: {} },
        serverInfo: { name: 'half-closed', version: '1' } } }) + '\\n');
    } else if (message.method === 'tools/call') {
      closeSync(1);
    }
  }
});
`;

const POLICY = `name: t
version: "1"
rules:
  - id: allow-safe
    match_on: { resources: [safe] }
    effect: { type: allow }
`;

describe('kvlar proxy --stdio in front of a server that closes its stdout early', () => {
  it('answers the pending call with -32000 and stops the server, which still runs', async () => {
    const dir = await tempDir({ 'server.mjs': SERVER, 'policy.yaml': POLICY });
    const pidFile = join(dir, 'server.pid');
    const auditFile = join(dir, 'audit.jsonl');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'proxy',
        '--stdio',
        '--policy',
        join(dir, 'policy.yaml'),
        '--audit',
        auditFile,
        '--',
        process.execPath,
        join(dir, 'server.mjs'),
        pidFile,
      ],
      { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const received: JsonObject[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) if (part !== '') received.push(JSON.parse(part) as JsonObject);
    });
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const send = (value: object) => child.stdin.write(`${JSON.stringify(value)}\n`);
    const answerTo = async (id: string) => {
      for (let i = 0; i < 500; i++) {
        const found = received.find((message) => isObject(message) && message.id === id);
        if (found !== undefined) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`no answer to ${id}: ${JSON.stringify(received)}`);
    };

    send({
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'c', version: '1' },
      },
    });
    await answerTo('init');
    const pid = Number(await readFile(pidFile, 'utf8'));
    send({ jsonrpc: '2.0', id: 'call', method: 'tools/call', params: { name: 'safe' } });
    const answer = await answerTo('call');
    expect((answer.error as JsonObject | undefined)?.code).toBe(-32000);
    await exited;
    expect(await waitUntilGone(pid)).toBe(true);
    expect((await auditRecords(auditFile)).map((record) => record.outcome)).toEqual(['allowed']);
  });
});
