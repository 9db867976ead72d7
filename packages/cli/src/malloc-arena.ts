/**
 * `kvlar proxy` runs with glibc's malloc limited to one arena (docs/adr/027).
 *
 * glibc gives each thread that allocates an arena of its own, up to eight per core, and keeps
 * what a thread frees in that thread's arena. V8's compiler and garbage-collection threads
 * allocate in bursts, so a proxy keeps several arenas of freed memory it does not reuse:
 * 6 MiB of its peak on Node 22 and 24. `MALLOC_ARENA_MAX` is read once, when the process
 * starts, and Node offers no `mallopt`, so `kvlar proxy` starts again with it set, as the same
 * process (`process.execve`, Node 22.15 and later), before it loads anything. What it runs, the
 * MCP server above all, gets the environment the user gave.
 */
import { accessSync, constants, readFileSync } from 'node:fs';

/** Set in the environment of the started-again process only, which takes it out at once. */
export const ONE_ARENA_MARKER = 'KVLAR_ONE_MALLOC_ARENA';

/** What `wantsOneArena` decides on. */
export interface ArenaFacts {
  /** `kvlar`'s arguments, without node and the script. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  /** Whether `process.execve` exists (Node 22.15, 23.11 and later; never on Windows). */
  readonly canExecve: boolean;
  /**
   * Whether the process runs on glibc, whose malloc reads `MALLOC_ARENA_MAX` (musl's does not).
   * Asked last, only when the rest holds: it reads a file.
   */
  readonly glibc: () => boolean;
}

/**
 * Whether to start again with one arena: only for `kvlar proxy`, which relays large answers
 * for as long as its client runs (the others are short-lived or hold little), only where the
 * variable means something and the process can be replaced, and never over the user's own
 * setting of it.
 */
export function wantsOneArena(facts: ArenaFacts): boolean {
  return (
    facts.args[0] === 'proxy' &&
    facts.platform === 'linux' &&
    facts.canExecve &&
    facts.env.MALLOC_ARENA_MAX === undefined &&
    !(facts.env.GLIBC_TUNABLES ?? '').includes('glibc.malloc.arena_max') &&
    facts.env[ONE_ARENA_MARKER] === undefined &&
    facts.glibc()
  );
}

/** Whether glibc's C library is mapped into this process. */
function onGlibc(): boolean {
  try {
    return readFileSync('/proc/self/maps', 'utf8').includes('/libc.so.6');
  } catch {
    return false;
  }
}

/**
 * Called first thing in `bin.ts`. Either replaces the process with the same `kvlar` command
 * under `MALLOC_ARENA_MAX=1` (and does not return), or, in the process started again, takes the
 * variable and the marker out of `process.env`, so that nothing `kvlar` runs inherits them.
 */
export function limitMallocArenas(): void {
  const env = process.env;
  if (env[ONE_ARENA_MARKER] !== undefined) {
    delete env[ONE_ARENA_MARKER];
    delete env.MALLOC_ARENA_MAX;
    return;
  }
  // Not in @types/node 20, whose Node lacks it.
  const { execve } = process as { execve?: (file: string, args: string[], env: object) => never };
  const facts: ArenaFacts = {
    args: process.argv.slice(2),
    env,
    platform: process.platform,
    canExecve: typeof execve === 'function',
    glibc: onGlibc,
  };
  if (!wantsOneArena(facts) || execve === undefined) return;
  try {
    // Node aborts the process when execve fails, so what can be checked is checked first.
    accessSync(process.execPath, constants.X_OK);
  } catch {
    return;
  }
  execve.call(
    process,
    process.execPath,
    [process.argv0, ...process.execArgv, ...process.argv.slice(1)],
    { ...env, MALLOC_ARENA_MAX: '1', [ONE_ARENA_MARKER]: '1' },
  );
}
