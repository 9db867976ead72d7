/**
 * A proxy killed with SIGKILL in the middle of a load leaves a log that verifies up to its last
 * complete record, and every call the server received has its record: audit before forward.
 */
import { describe, expect, it } from 'vitest';
import { kvlar } from './helpers.js';
import { auditRecords, isObject, recordedCalls, startRawProxy, toolCall } from './proxy-helpers.js';

describe('kvlar proxy killed with SIGKILL under load', () => {
  it('leaves a log that verifies, with a record for every call the server received (20,000 sent)', async () => {
    const proxy = await startRawProxy();
    await proxy.initialize();
    const calls = 20_000;
    const sendCalls = (from: number, to: number) => {
      for (let id = from; id <= to; id += 50) {
        proxy.send(
          ...Array.from({ length: Math.min(50, to - id + 1) }, (_, i) =>
            toolCall(id + i, 'safe', { n: id + i }),
          ),
        );
      }
    };
    // A first thousand, and once 500 are answered the rest at once and the kill right behind
    // them: 1.9 MB of calls cannot all have crossed a 64 KB pipe, so many are in flight whatever
    // the machine's load (sent all at once, a busy test process once saw every call answered
    // before it got to kill).
    sendCalls(1, 1000);
    await proxy.waitFor(
      (received) =>
        received.filter(
          (message) => isObject(message) && typeof message.id === 'number' && message.id > 0,
        ).length >= 500,
      30_000,
    );
    sendCalls(1001, calls);
    proxy.child.kill('SIGKILL');
    await proxy.exited;
    const atServer = (await recordedCalls(proxy.recordFile)).map(
      (call) => (call.params as { arguments: { n: number } }).arguments.n,
    );
    expect(atServer.length).toBeGreaterThanOrEqual(500);
    expect(atServer.length).toBeLessThan(calls);
    const audited = new Set(
      (await auditRecords(proxy.auditFile))
        .filter((record) => record.action_type === 'tool_call')
        .map((record) => (record.parameters as { n: number }).n),
    );
    expect(atServer.filter((n) => !audited.has(n))).toEqual([]);
    const verify = await kvlar(['audit', 'verify', proxy.auditFile], { cwd: process.cwd() });
    expect(verify.code).toBe(0);
  }, 60_000);
});
