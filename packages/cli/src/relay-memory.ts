/**
 * Frees the buffers of large answers soon after they are relayed. A 5 MB answer arrives as ~80
 * pipe reads: 5 MB outside V8's heap, which V8 reclaims only once tens of megabytes of such
 * memory have piled up (docs/adr/018). A young-generation collection every few MiB relayed frees
 * them while they are still young, for about a millisecond each. Reads that lived through two
 * young collections while their answer came in (more often on Node 22 and later, with the young
 * generation kept small) are old by then: when the collection leaves more than a few MiB of
 * buffers above what the last full one left, a full collection follows (docs/adr/025).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes of large answers relayed between two collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Buffers left after a young collection, beyond what the last full collection left, above which
 * a full one follows: less than one 5 MB answer's reads (docs/adr/025).
 */
export const COLLECT_FULLY_ABOVE_BYTES = 4 * 1024 * 1024;

type Collect = (type: 'minor' | 'major') => void;

/** Bytes held by ArrayBuffers (Buffers): where relayed answers' reads live. */
function bufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

/**
 * An `onRawWritten` callback for the proxy runners, or undefined where the runtime offers no
 * collector (then V8's own heuristics apply, as before).
 */
export function createRelayCollector(
  everyBytes: number = COLLECT_EVERY_BYTES,
  fullyAboveBytes: number = COLLECT_FULLY_ABOVE_BYTES,
): ((bytes: number) => void) | undefined {
  const collect = collector();
  if (collect === undefined) return undefined;
  let relayed = 0;
  let scheduled = false;
  // Buffers that stay alive (answers in flight on other connections, say) raise the baseline:
  // only what piles up above it calls for a full collection. V8 frees the buffers a collection
  // found dead on a helper thread, so a count read just after one may be high: every later
  // count lowers the baseline again.
  let baseline = bufferBytes();
  return (bytes) => {
    relayed += bytes;
    if (relayed < everyBytes || scheduled) return;
    relayed = 0;
    scheduled = true;
    // Not now: the write's callbacks still hold the batch that holds the buffers.
    setImmediate(() => {
      scheduled = false;
      collect('minor');
      const left = bufferBytes();
      baseline = Math.min(baseline, left);
      if (left - baseline <= fullyAboveBytes) return;
      collect('major');
      baseline = bufferBytes();
    });
  };
}

function collector(): Collect | undefined {
  try {
    // `--expose-gc` set at run time takes effect in contexts created afterwards: one is made
    // only to fetch its `gc`. Nothing else in kvlar creates contexts.
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return undefined;
    const collect = gc as (options?: { type: 'minor' }) => void;
    // A full collection is `gc()`: Node 20's `gc({ type: 'major' })` does not collect the old
    // generation (measured: a dropped 6 MB Buffer that had been promoted stayed counted).
    return (type) => {
      if (type === 'minor') collect({ type });
      else collect();
    };
  } catch {
    return undefined;
  }
}
