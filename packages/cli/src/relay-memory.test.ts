import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createRelayCollector } from './relay-memory.js';

const MB = 1e6;

/** Bytes held by ArrayBuffers (Buffers): where a relayed answer's memory lives. */
function arrayBuffers(): number {
  return process.memoryUsage().arrayBuffers;
}

/** Allocates a 16 MB Buffer that nothing holds once this returns, as a relayed answer is. */
function relayedAnswer(): void {
  Buffer.alloc(16 * MB, 0x61);
}

describe('createRelayCollector', () => {
  it('frees the buffers of relayed answers once enough bytes were relayed, after the current turn', async () => {
    const collect = createRelayCollector(1000);
    if (collect === undefined) throw new Error('this runtime offers no collector');
    const before = arrayBuffers();
    relayedAnswer();
    collect(999);
    await nextTurn();
    await nextTurn();
    // Below the threshold: V8 alone does not free 16 MB of young buffers this soon.
    expect(arrayBuffers() - before).toBeGreaterThanOrEqual(15 * MB);
    collect(1);
    await nextTurn();
    await nextTurn();
    expect(arrayBuffers() - before).toBeLessThan(1 * MB);
  });
});
