import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
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
 * A full collection, fetched as the collector fetches its minor one. Run before each attempt, it
 * ends any marking V8 had started: a buffer allocated while a major collection is marking is
 * kept until that collection ends, whatever a minor one finds (seen on Node 24 under load).
 */
function fullCollection(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Attempts before giving up on finding V8 idle for two turns; each misses about one in ten. */
const ATTEMPTS = 5;

describe('createRelayCollector', () => {
  it('frees the buffers of relayed answers once enough bytes were relayed, after the current turn', async () => {
    for (let attempt = 1; ; attempt++) {
      const collect = createRelayCollector(1000);
      if (collect === undefined) throw new Error('this runtime offers no collector');
      fullCollection();
      const before = arrayBuffers();
      relayedAnswer();
      collect(999);
      // Longer than the wait below takes on a quiet machine: nothing is collected meanwhile.
      await sleep(100);
      // Below the threshold the buffer must still be there, or what follows proves nothing. V8
      // may scavenge on its own at any time (more often on Node 24), so that attempt is redone.
      if (arrayBuffers() - before < 3.5 * MB) {
        if (attempt < ATTEMPTS) continue;
        throw new Error(`V8 freed the buffer by itself in ${ATTEMPTS} attempts of ${ATTEMPTS}`);
      }
      collect(1);
      // Not in this turn: the write that relayed the answer may still hold it.
      expect(arrayBuffers() - before).toBeGreaterThan(3.5 * MB);
      // V8 gives the memory back from a helper thread once the collection ran, which a busy
      // machine can delay past a turn or two: wait for it, boundedly.
      for (let waited = 0; waited < 300 && arrayBuffers() - before >= 0.5 * MB; waited++) {
        await sleep(10);
      }
      expect(arrayBuffers() - before).toBeLessThan(0.5 * MB);
      return;
    }
  });
});
