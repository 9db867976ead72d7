import type { PolicyLoader } from '@kvlar/core';
import type { ConsolaInstance } from 'consola/core';
import { colorsWanted, createPainter, type Painter } from './colors.js';
import { createFileLoader } from './loader.js';
import { createLogger } from './logger.js';

export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
}

/** Everything a command touches outside itself, so `main` can run in-process in a test. */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where `extends: [NAME]` finds built-in templates; default: the ones shipped with the CLI. */
  readonly builtinDir?: string | undefined;
}

/** What a command runs with: stdout for results, a logger on stderr for diagnostics. */
export interface Runtime {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal: what a person reads, not what a program parses. */
  readonly stdoutIsTerminal: boolean;
  /** Writes one line of result to stdout. */
  print(line: string): void;
  /** Writes a result as pretty JSON (2-space indent) to stdout. */
  printJson(value: unknown): void;
  /** Diagnostics, on stderr. */
  readonly logger: ConsolaInstance;
  /** stderr itself, for what is not a line of log: a progress line redrawn on a terminal. */
  readonly stderr: Output;
  readonly colors: { readonly stdout: Painter; readonly stderr: Painter };
  readonly loader: PolicyLoader;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}

const runtimes = new WeakSet<Runtime>();

export function createRuntime(io: Io): Runtime {
  const runtime: Runtime = {
    cwd: io.cwd,
    env: io.env,
    stdoutIsTerminal: io.stdout.isTTY === true,
    print: (line) => {
      io.stdout.write(`${line}\n`);
    },
    printJson: (value) => {
      io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    logger: createLogger(io.stderr, { debug: isSet(io.env.KVLAR_DEBUG) }),
    stderr: io.stderr,
    colors: {
      stdout: createPainter(colorsWanted(io.stdout, io.env)),
      stderr: createPainter(colorsWanted(io.stderr, io.env)),
    },
    loader: createFileLoader(
      'builtinDir' in io ? { cwd: io.cwd, builtinDir: io.builtinDir } : { cwd: io.cwd },
    ),
  };
  runtimes.add(runtime);
  return runtime;
}

/** The runtime `main` hands every command through citty's `data`. */
export function runtimeOf(context: { readonly data?: unknown }): Runtime {
  const { data } = context;
  if (typeof data === 'object' && data !== null && runtimes.has(data as Runtime)) {
    return data as Runtime;
  }
  throw new Error('a kvlar command was run without a runtime: call it through main()');
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0';
}
