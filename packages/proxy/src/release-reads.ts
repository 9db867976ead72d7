/**
 * Gives back the memory of reads once they were relayed. A large answer is relayed as the pipe
 * or socket reads it came in (docs/adr/024); by the time they are written they have outlived
 * V8's young generation, so their memory stays until V8 next collects fully, tens of megabytes
 * later. Detaching a read's `ArrayBuffer` frees it now (docs/adr/026).
 */

import { Socket } from 'node:net';
import type { Writable } from 'node:stream';

type Transfer = (this: ArrayBuffer, newLength?: number) => ArrayBuffer;

// Node 22 and later. On Node 20 a structured clone detaches instead; the clone holds the memory
// until the next young-generation collection, which comes within milliseconds.
const transfer = (ArrayBuffer.prototype as { transfer?: Transfer }).transfer;

/**
 * Detaches the `ArrayBuffer` of each buffer that spans all of it, so its memory is freed without
 * waiting for a garbage collection; afterwards the buffer is empty. A buffer that shares its
 * `ArrayBuffer` (a slice of a larger read, Node's pool) is left as it is, as is one that cannot
 * be detached. Returns the bytes released.
 *
 * Only for buffers nothing will read again: each is a stream's read, nobody else listens to
 * that stream, and the writes they went into have completed.
 */
export function releaseReads(buffers: readonly Buffer[]): number {
  let released = 0;
  for (const buffer of buffers) {
    const store = buffer.buffer;
    if (
      buffer.byteLength === 0 ||
      buffer.byteOffset !== 0 ||
      buffer.byteLength !== store.byteLength ||
      !(store instanceof ArrayBuffer)
    ) {
      continue;
    }
    const bytes = buffer.byteLength;
    try {
      if (transfer !== undefined) transfer.call(store, 0);
      else structuredClone(store, { transfer: [store] });
      if (buffer.byteLength === 0) released += bytes;
    } catch {
      // Not detachable (e.g. a WebAssembly memory): V8 frees it in its own time, as before.
    }
  }
  return released;
}

/**
 * Whether the bytes of a write to `output` have left the process once the write's callback
 * runs: true of sockets, pipes and terminals (`net.Socket`) and of `process.stdout`; not of a
 * stream that may still hold what it was given, such as a `PassThrough`.
 */
export function writesLeaveOnCompletion(output: Writable): boolean {
  return output instanceof Socket || output === process.stdout;
}

/**
 * The `onRawWritten` of a runner's client transport: the answers it relays were read from a
 * stream the runner opened, so once written to `output` their reads are released; then the
 * host's own callback, if any, is told the size.
 */
export function releasingOnRawWritten(
  output: Writable,
  onRawWritten: ((bytes: number) => void) | undefined,
): ((bytes: number, buffers: readonly Buffer[]) => void) | undefined {
  const release = writesLeaveOnCompletion(output);
  if (!release) return onRawWritten;
  detachOnceBeforeTraffic();
  return (bytes, buffers) => {
    releaseReads(buffers);
    onRawWritten?.(bytes);
  };
}

let detachedOnce = false;

/**
 * V8 compiles code that reads typed arrays on the assumption that no `ArrayBuffer` was ever
 * detached, and throws all of it away at the first detach. Were that the first release, after
 * the first large answer, the proxy's warmed-up code would be thrown away and its small calls
 * would cost 10% more from then on (measured under callgrind, docs/adr/026). Detaching a
 * one-byte buffer before any traffic makes V8 compile for detaching from the start.
 */
function detachOnceBeforeTraffic(): void {
  if (detachedOnce) return;
  detachedOnce = true;
  releaseReads([Buffer.from(new ArrayBuffer(1))]);
}
