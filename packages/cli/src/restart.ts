/**
 * Settings `kvlar proxy` can only have from its start, which it gets by starting again, as the
 * same process (`process.execve`, Node 22.15 and later), before it loads anything:
 *
 * - one glibc malloc arena (docs/adr/027). glibc gives each thread that allocates an arena of
 *   its own and keeps what a thread frees there; V8's compiler and GC threads leave several
 *   arenas of memory the main thread never reuses. `MALLOC_ARENA_MAX` is read once, at start,
 *   and Node offers no `mallopt`.
 *
 * - V8's young generation capped at its starting size, two semi-spaces of 1 MiB
 *   (`--max-semi-space-size=1`), where V8 no longer takes the cap at run time: V8 14 and later,
 *   Node 26's (docs/adr/028; docs/adr/021 for the run-time cap on older V8s).
 *
 * What kvlar runs, the MCP server above all, gets the environment the user gave.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { capsYoungGenerationAtRunTime } from './heap.js';

/**
 * Set in the environment of the process started again, and taken out by it at once. Its value
 * lists the variables kvlar added, which are taken out too.
 */
export const RESTART_MARKER = 'KVLAR_RESTARTED';

/** The variables a restart may add: the only ones the marker may name. */
const ADDED_VARIABLES: ReadonlySet<string> = new Set(['MALLOC_ARENA_MAX']);

/** What `restartPlan` decides on. */
export interface RestartFacts {
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
  /** Whether `capYoungGeneration` caps the young generation at run time (V8 13 and older). */
  readonly youngCapAtRunTime: boolean;
  /** Whether this Node takes `--max-semi-space-size` (`process.allowedNodeEnvironmentFlags`). */
  readonly takesSemiSpaceOption: boolean;
  /** The Node options kvlar was started with: `process.execArgv`, then `NODE_OPTIONS`. */
  readonly nodeOptions: string;
}

/** What the process is started again with. */
export interface Restart {
  /** Variables added to the environment (and taken out again by the process started again). */
  readonly env: Readonly<Record<string, string>>;
  /** Node options put before the user's own (which win where they differ). */
  readonly nodeOptions: readonly string[];
}

/**
 * Whether to start again, and with what: only for `kvlar proxy`, which relays large answers for
 * as long as its client runs (the others are short-lived or hold little), only where the
 * process can be replaced, never over the user's own settings, and never twice.
 */
export function restartPlan(facts: RestartFacts): Restart | undefined {
  const { env } = facts;
  if (facts.args[0] !== 'proxy' || !facts.canExecve || env[RESTART_MARKER] !== undefined) {
    return undefined;
  }
  const capYoung =
    !facts.youngCapAtRunTime &&
    facts.takesSemiSpaceOption &&
    !facts.nodeOptions.replaceAll('_', '-').includes('--max-semi-space-size');
  const oneArena =
    facts.platform === 'linux' &&
    env.MALLOC_ARENA_MAX === undefined &&
    !(env.GLIBC_TUNABLES ?? '').includes('glibc.malloc.arena_max') &&
    facts.glibc();
  if (!capYoung && !oneArena) return undefined;
  return {
    env: oneArena ? { MALLOC_ARENA_MAX: '1' } : {},
    nodeOptions: capYoung ? ['--max-semi-space-size=1'] : [],
  };
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
 * Called first thing in `bin.ts`. Either replaces the process with the same `kvlar` command and
 * the settings of `restartPlan` (and does not return), or, in the process started again, takes
 * the variables it added and the marker out of `process.env`, so that nothing `kvlar` runs
 * inherits them.
 */
export function restartWithStartSettings(): void {
  const env = process.env;
  const added = env[RESTART_MARKER];
  if (added !== undefined) {
    for (const name of added.split(',')) if (ADDED_VARIABLES.has(name)) delete env[name];
    delete env[RESTART_MARKER];
    return;
  }
  // Not in @types/node 20, whose Node lacks it.
  const { execve } = process as { execve?: (file: string, args: string[], env: object) => never };
  const plan = restartPlan({
    args: process.argv.slice(2),
    env,
    platform: process.platform,
    canExecve: typeof execve === 'function',
    glibc: onGlibc,
    youngCapAtRunTime: capsYoungGenerationAtRunTime(),
    takesSemiSpaceOption: process.allowedNodeEnvironmentFlags.has('--max-semi-space-size'),
    nodeOptions: `${process.execArgv.join(' ')} ${env.NODE_OPTIONS ?? ''}`,
  });
  if (plan === undefined || execve === undefined) return;
  try {
    // Node aborts the process when execve fails, so what can be checked is checked first.
    accessSync(process.execPath, constants.X_OK);
  } catch {
    return;
  }
  execve.call(
    process,
    process.execPath,
    [process.argv0, ...plan.nodeOptions, ...process.execArgv, ...process.argv.slice(1)],
    { ...env, ...plan.env, [RESTART_MARKER]: Object.keys(plan.env).join(',') },
  );
}
