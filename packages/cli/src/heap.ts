/**
 * The memory settings the `kvlar` process makes for itself, before it loads anything else
 * (bin.ts). A host embedding `main` or `@kvlar/proxy` keeps its own settings.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * The newest V8 major version `capYoungGeneration` sets its flag on: V8 13, Node 24's. Its effect
 * was measured on V8 11, 12 and 13 (Node 20, 22 and 24); newer V8 sources clamp the factor to at
 * least 2. V8 prints an unknown flag's name on stdout, which in `kvlar proxy --stdio` carries
 * JSON-RPC only, so a V8 newer than this is left as it is.
 */
export const NEWEST_V8_CHECKED = 13;

/**
 * Whether `capYoungGeneration` sets its flag on this V8 (13 and older). Where it does not, `kvlar
 * proxy` caps the young generation at its start instead (restart.ts, docs/adr/028).
 */
export function capsYoungGenerationAtRunTime(v8Version: string = process.versions.v8): boolean {
  return Number.parseInt(v8Version, 10) <= NEWEST_V8_CHECKED;
}

/**
 * Keeps V8's young generation at the size it starts with (two semi-spaces of 1 MiB on 64-bit) by
 * setting the factor it grows by to 1 (docs/adr/021). Left alone, V8 grows it to 16 MiB while
 * modules load and under pipelined calls, and keeps it, nearly empty, for the rest of the run.
 *
 * V8 reads the factor each time it would grow, so it works set at run time, unlike
 * `--max-semi-space-size`, which is read once when the heap is set up, and which `kvlar`,
 * started as `kvlar …`, can pass to Node only by starting again (restart.ts: where Node can,
 * and only on V8s this does not serve). Newer V8s raise the factor to at least 2, their default,
 * where this changes nothing. Returns whether the flag was set.
 */
export function capYoungGeneration(v8Version: string = process.versions.v8): boolean {
  if (!capsYoungGenerationAtRunTime(v8Version)) return false;
  try {
    setFlagsFromString('--semi-space-growth-factor=1');
    return true;
  } catch {
    return false;
  }
}

/**
 * The size `raiseMallocThresholds` allocates: just under glibc's largest dynamic mmap threshold
 * on 64-bit (`DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB), so freeing it raises the threshold as far
 * as it goes.
 */
export const THRESHOLD_BLOCK_BYTES = 31 * 1024 * 1024;

/**
 * Makes glibc's malloc keep the memory of large answers for the next one instead of giving it
 * back to the OS after each (docs/adr/022).
 *
 * glibc serves blocks of its mmap threshold (128 KiB at first) and up with `mmap`. Freeing such
 * a block raises the threshold to its size, and the trim threshold (free memory at the top of
 * the heap beyond which it is returned to the OS) to twice that. So the first large block a
 * process happens to free decides, for good, whether relaying a 5 MB answer reuses memory or
 * trims the heap and faults 10 MB of fresh pages back in, which in a VM costs 6× the CPU.
 * Allocating one block of `THRESHOLD_BLOCK_BYTES` and dropping it decides instead: it is
 * freed at the next young-generation collection (within milliseconds, while modules load), and
 * never touched, so it never becomes resident. Elsewhere than glibc it is a short-lived
 * allocation of address space, nothing more.
 */
export function raiseMallocThresholds(): void {
  Buffer.allocUnsafeSlow(THRESHOLD_BLOCK_BYTES);
}
