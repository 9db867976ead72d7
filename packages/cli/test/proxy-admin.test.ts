import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, kvlar, tempDir } from './helpers.js';
import {
  adminUrl,
  type RawProxy,
  RECORDING_POLICY,
  RECORDING_SERVER,
  startRawProxy,
  toolCall,
} from './proxy-helpers.js';

const running: RawProxy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((proxy) => proxy.kill()));
});

async function health(proxy: RawProxy): Promise<Record<string, unknown>> {
  const response = await fetch(`${await adminUrl(proxy)}/health`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('kvlar proxy --health / --admin', () => {
  it('serves /health in stdio mode (the Rust flag), with counters that move', async () => {
    const proxy = await startRawProxy({ flags: ['--health', '127.0.0.1:0'] });
    running.push(proxy);
    await proxy.initialize();
    expect(await health(proxy)).toMatchObject({
      status: 'ok',
      policy_loaded: true,
      rules_count: 2,
      requests_evaluated: 0,
    });
    proxy.send(toolCall(1, 'safe'), toolCall(2, 'rm'));
    await proxy.answerTo(1);
    await proxy.answerTo(2);
    expect(await health(proxy)).toMatchObject({
      requests_evaluated: 2,
      requests_allowed: 1,
      requests_denied: 1,
      requests_approval: 0,
      sessions: 1,
    });
    expect(proxy.stderr()).not.toContain('not supported');
  });

  it('refuses an admin address that is not loopback', async () => {
    const result = await kvlar(
      ['proxy', '--stdio', '--policy', 'p.yaml', '--admin', '0.0.0.0:9100', '--', 'node'],
      { cwd: process.cwd() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--admin must be a loopback address');
  });

  it('serves /health in TCP mode, counting the decisions of every session', async () => {
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const child = spawn(
      process.execPath,
      [
        BIN,
        'proxy',
        '--listen',
        '127.0.0.1:0',
        '--admin',
        '127.0.0.1:0',
        '--policy',
        'policy.yaml',
        '--',
        process.execPath,
        RECORDING_SERVER,
        join(dir, 'received.jsonl'),
      ],
      {
        cwd: dir,
        env: { ...process.env, KVLAR_HOME: join(dir, 'home') },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    try {
      const deadline = Date.now() + 10_000;
      while (
        !(/listening on 127\.0\.0\.1:(\d+)/.test(stderr) && /admin endpoint on (\S+)/.test(stderr))
      ) {
        if (Date.now() > deadline) throw new Error(`kvlar did not start:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
      const admin = /admin endpoint on (\S+)/.exec(stderr)?.[1] ?? '';
      // Two clients, one call each: an allowed one and a denied one.
      const ask = (line: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = createConnection(port, '127.0.0.1', () => socket.write(`${line}\n`));
          let text = '';
          socket.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
            if (text.includes('\n')) {
              socket.end();
              resolve(text);
            }
          });
          socket.on('error', reject);
        });
      await Promise.all([ask(toolCall(1, 'safe')), ask(toolCall(1, 'rm'))]);
      const health = (await (await fetch(`${admin}/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({
        requests_evaluated: 2,
        requests_allowed: 1,
        requests_denied: 1,
      });
    } finally {
      const exited = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
