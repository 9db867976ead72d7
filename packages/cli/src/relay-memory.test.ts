import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createRelayCollector } from './relay-memory.js';

const MB = 1e6;

/** Bytes held by ArrayBuffers (Buffers): where a relayed answer's memory lives. */
function arrayBuffers(): number {
  return process.memoryUsage().arrayBuffers;
}

/** Allocates a 4 MB Buffer that nothing holds once this returns, as a relayed answer is. */
function relayedAnswer(): void {
  Buffer.alloc(4 * MB, 0x61);
}

/**
 * Allocates a 4 MB Buffer and keeps it through two young-generation collections, which makes it
 * old (as the reads of an answer that took a while to arrive), then drops it.
 */
function oldRelayedAnswer(): void {
  // createRelayCollector has set --expose-gc; a new context sees it.
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  const holder = [Buffer.alloc(4 * MB, 0x61)];
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  holder.pop();
}

/** Attempts before giving up on finding V8 idle for two turns; each misses about one in ten. */
const ATTEMPTS = 5;

describe('createRelayCollector', () => {
  it('frees the buffers of relayed answers once enough bytes were relayed, after the current turn', async () => {
    for (let attempt = 1; ; attempt++) {
      const collect = createRelayCollector(1000);
      if (collect === undefined) throw new Error('this runtime offers no collector');
      const before = arrayBuffers();
      relayedAnswer();
      collect(999);
      await nextTurn();
      await nextTurn();
      // Below the threshold the buffer must still be there, or what follows proves nothing. V8
      // may scavenge on its own at any time (more often on Node 24), so that attempt is redone.
      if (arrayBuffers() - before < 3.5 * MB) {
        if (attempt < ATTEMPTS) continue;
        throw new Error(`V8 freed the buffer by itself in ${ATTEMPTS} attempts of ${ATTEMPTS}`);
      }
      collect(1);
      await nextTurn();
      await nextTurn();
      expect(arrayBuffers() - before).toBeLessThan(0.5 * MB);
      return;
    }
  });

  it('collects fully when old buffers are left above the threshold, and only then', async () => {
    for (let attempt = 1; ; attempt++) {
      // Young collections only: the old buffer survives them, or the test below proves nothing.
      const youngOnly = createRelayCollector(1000, Number.POSITIVE_INFINITY);
      // Made first: what is held when a collector is made is its baseline.
      const collect = createRelayCollector(1000, 2 * MB);
      if (youngOnly === undefined || collect === undefined) {
        throw new Error('this runtime offers no collector');
      }
      const before = arrayBuffers();
      oldRelayedAnswer();
      youngOnly(1000);
      await nextTurn();
      await nextTurn();
      // V8 may collect fully on its own at any time: that attempt is redone.
      if (arrayBuffers() - before < 3.5 * MB) {
        if (attempt < ATTEMPTS) continue;
        throw new Error(`V8 freed the buffer by itself in ${ATTEMPTS} attempts of ${ATTEMPTS}`);
      }
      // With a threshold the old buffer is above, a full collection follows and frees it (V8
      // frees the memory on a helper thread: it is counted until that thread is done).
      collect(1000);
      await nextTurn();
      await nextTurn();
      const deadline = Date.now() + 2000;
      while (arrayBuffers() - before >= 0.5 * MB && Date.now() < deadline) await sleep(5);
      expect(arrayBuffers() - before).toBeLessThan(0.5 * MB);
      return;
    }
  });
});
