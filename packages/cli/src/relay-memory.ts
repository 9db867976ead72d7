/**
 * Frees what large answers leave behind soon after they are relayed. A 5 MB answer arrives as
 * ~80 pipe reads, outside V8's heap, which V8 reclaims only once tens of megabytes of such
 * memory have piled up (docs/adr/018). The proxy's runners release the reads themselves once
 * written (docs/adr/026); on Node 20 that moves each into a young clone. A young-generation
 * collection every few MiB relayed frees those, and what else the answers left young, for about
 * a millisecond each.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes of large answers relayed between two collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type Collect = () => void;

/**
 * An `onRawWritten` callback for the proxy runners, or undefined where the runtime offers no
 * collector (then V8's own heuristics apply, as before).
 */
export function createRelayCollector(
  everyBytes: number = COLLECT_EVERY_BYTES,
): ((bytes: number) => void) | undefined {
  const collect = youngGenerationCollector();
  if (collect === undefined) return undefined;
  let relayed = 0;
  let scheduled = false;
  return (bytes) => {
    relayed += bytes;
    if (relayed < everyBytes || scheduled) return;
    relayed = 0;
    scheduled = true;
    // Not now: the write's callbacks still hold the batch that holds the buffers.
    setImmediate(() => {
      scheduled = false;
      collect();
    });
  };
}

function youngGenerationCollector(): Collect | undefined {
  try {
    // `--expose-gc` set at run time takes effect in contexts created afterwards: one is made
    // only to fetch its `gc`. Nothing else in kvlar creates contexts.
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return undefined;
    return () => {
      (gc as (options: { type: 'minor' }) => void)({ type: 'minor' });
    };
  } catch {
    return undefined;
  }
}
