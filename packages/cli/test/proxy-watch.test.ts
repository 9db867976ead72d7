import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  auditRecords,
  isObject,
  type RawProxy,
  RECORDING_POLICY,
  recordedCalls,
  resultText,
  startRawProxy,
  toolCall,
} from './proxy-helpers.js';

const running: RawProxy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((proxy) => proxy.kill()));
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Saves like an editor does: a temporary file renamed over the policy. */
async function save(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

describe('kvlar proxy --watch', () => {
  it('reloads an edited policy between messages, audits the reload, and keeps the last good one on a bad edit', async () => {
    const proxy = await startRawProxy({ flags: ['--watch'] });
    running.push(proxy);
    await proxy.initialize();
    const policy = join(dirname(proxy.auditFile), 'policy.yaml');

    proxy.send(toolCall(1, 'safe'));
    expect(resultText(await proxy.answerTo(1))).not.toContain('BLOCKED');

    await save(policy, RECORDING_POLICY.replace('resources: [rm]', 'resources: [rm, safe]'));
    await until(() => proxy.stderr().includes('policies reloaded'), 'the reload');
    proxy.send(toolCall(2, 'safe'));
    expect(resultText(await proxy.answerTo(2))).toContain('[BLOCKED BY KVLAR]');

    await save(
      policy,
      'name: broken\nversion: "1"\nrules:\n  - id: x\n    match_on: { resource: [safe] }\n',
    );
    await until(() => proxy.stderr().includes('last good policy stays'), 'the refusal');
    expect(proxy.stderr()).toMatch(/policy\.yaml:5:\d+: error/);
    proxy.send(toolCall(3, 'safe'));
    expect(resultText(await proxy.answerTo(3))).toContain('[BLOCKED BY KVLAR]');

    proxy.closeInput();
    await proxy.exited;
    const records = await auditRecords(proxy.auditFile);
    expect(records.map((record) => record.action_type)).toEqual([
      'tool_call',
      'policy_reload',
      'tool_call',
      'tool_call',
    ]);
    const hashes = records.map((record) => (record.policy as { hash: string }).hash);
    expect(hashes[0]).not.toBe(hashes[1]);
    expect(hashes.slice(1)).toEqual([hashes[1], hashes[1], hashes[1]]);
  });

  it('swaps the policy many times under thousands of calls: each answered once, none misrouted, the server sees exactly the allowed', async () => {
    const proxy = await startRawProxy({ flags: ['--watch'] });
    running.push(proxy);
    await proxy.initialize();
    const policy = join(dirname(proxy.auditFile), 'policy.yaml');
    const allowing = RECORDING_POLICY;
    const denying = RECORDING_POLICY.replace('resources: [rm]', 'resources: [rm, safe]');
    const calls = 3000;
    let sent = 0;
    const sending = (async () => {
      while (sent < calls) {
        const batch: string[] = [];
        for (let i = 0; i < 25 && sent < calls; i++)
          batch.push(toolCall(++sent, 'safe', { n: sent }));
        proxy.send(...batch);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    // Spaced beyond the watcher's 200 ms debounce, so each save is its own reload, mid-stream.
    for (let swap = 0; swap < 10; swap++) {
      await save(policy, swap % 2 === 0 ? denying : allowing);
      await new Promise((resolve) => setTimeout(resolve, 350));
    }
    await sending;
    await proxy.waitFor(
      (received) =>
        received.filter(
          (message) => isObject(message) && typeof message.id === 'number' && message.id > 0,
        ).length >= calls,
      30_000,
    );
    const answers = proxy.received.filter(
      (message): message is Record<string, unknown> =>
        isObject(message) && typeof message.id === 'number' && message.id > 0,
    );
    const ids = answers.map((answer) => answer.id as number);
    expect(new Set(ids).size).toBe(calls);
    expect(ids.length).toBe(calls);
    const denied = new Set(
      answers
        .filter((answer) => resultText(answer).includes('[BLOCKED BY KVLAR]'))
        .map((answer) => answer.id),
    );
    const allowed = answers.filter((answer) => !denied.has(answer.id));
    // Each allowed answer is the server's own echo of that very call.
    for (const answer of allowed)
      expect(resultText(answer)).toContain(`"n":${answer.id as number}`);
    const atServer = (await recordedCalls(proxy.recordFile)).map((call) => call.id);
    expect(new Set(atServer)).toEqual(new Set(allowed.map((answer) => answer.id)));
    expect(atServer.length).toBe(allowed.length);
    expect(denied.size).toBeGreaterThan(0);
    expect(allowed.length).toBeGreaterThan(0);
    expect(proxy.stderr().match(/policies reloaded/g)?.length ?? 0).toBeGreaterThan(2);
  }, 60_000);
});
