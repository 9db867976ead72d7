/**
 * The one V8 heap setting the `kvlar` process makes for itself, before it loads anything else
 * (bin.ts). A host embedding `main` or `@kvlar/proxy` keeps its own settings.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * The newest V8 major version `capYoungGeneration` was checked on. V8 prints an unknown flag's
 * name on stdout, which in `kvlar proxy --stdio` carries JSON-RPC only, so a newer V8 is left as
 * it is.
 */
export const NEWEST_V8_CHECKED = 13;

/**
 * Keeps V8's young generation at the size it starts with (two semi-spaces of 1 MiB on 64-bit) by
 * setting the factor it grows by to 1 (docs/adr/021). Left alone, V8 grows it to 16 MiB while
 * modules load and under pipelined calls, and keeps it, nearly empty, for the rest of the run.
 *
 * V8 reads the factor each time it would grow, so it works set at run time, unlike
 * `--max-semi-space-size`, which is read once when the heap is set up and which `kvlar`, started
 * as `kvlar …`, cannot pass to Node. Newer V8s raise the factor to at least 2, their default,
 * where this changes nothing. Returns whether the flag was set.
 */
export function capYoungGeneration(v8Version: string = process.versions.v8): boolean {
  const major = Number.parseInt(v8Version, 10);
  if (!(major <= NEWEST_V8_CHECKED)) return false;
  try {
    setFlagsFromString('--semi-space-growth-factor=1');
    return true;
  } catch {
    return false;
  }
}
