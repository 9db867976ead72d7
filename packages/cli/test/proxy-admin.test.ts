import { afterEach, describe, expect, it } from 'vitest';
import { kvlar } from './helpers.js';
import { type RawProxy, startRawProxy, toolCall } from './proxy-helpers.js';

const running: RawProxy[] = [];
afterEach(() => {
  for (const proxy of running.splice(0)) proxy.kill();
});

async function health(proxy: RawProxy): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  let match = /admin endpoint on (http:\/\/[^ ]+)/.exec(proxy.stderr());
  while (match === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    match = /admin endpoint on (http:\/\/[^ ]+)/.exec(proxy.stderr());
  }
  if (match === null) throw new Error(`no admin endpoint announced:\n${proxy.stderr()}`);
  const response = await fetch(`${match[1]}/health`);
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
});
