/**
 * The one error boundary: dispatch argv to a command, map what goes wrong to an exit code.
 * Nothing here calls process.exit, so `main` can run in-process (tests, embedders).
 */
import { didYouMean, KvlarError } from '@kvlar/core';
import { runCommand } from 'citty';
import { checkArgs, wantsHelp } from './args.js';
import { type AnyCommand, commands, rootCommand } from './commands/index.js';
import { CliError, ExitCode } from './errors.js';
import { createRuntime, type Io, processIo, type Runtime } from './runtime.js';
import { usageOf } from './usage.js';
import { VERSION } from './version.js';

/**
 * Resolves with the process exit status: an `ExitCode` (0 ok, 1 failure, 2 usage), or for
 * `kvlar proxy` the status its server died with.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const runtime = createRuntime(io);
  try {
    return await dispatch(argv, runtime);
  } catch (error) {
    return reportError(error, runtime);
  }
}

async function dispatch(argv: readonly string[], runtime: Runtime): Promise<number> {
  const [name, ...rest] = argv;
  const usage = (message: string) => new CliError('usage', message, { command: 'kvlar' });
  if (name === undefined) {
    // Like a missing required flag: say what there is, on stderr, and fail as a usage error.
    runtime.logger.error(await usageOf(rootCommand, undefined, runtime.colors.stderr));
    return ExitCode.usage;
  }
  if (name === '--help' || name === '-h') {
    runtime.print(await usageOf(rootCommand, undefined, runtime.colors.stdout));
    return ExitCode.ok;
  }
  if (name === '--version' || name === '-V') {
    if (rest.length > 0) throw usage(`'${name}' takes no arguments`);
    runtime.print(`kvlar ${VERSION}`);
    return ExitCode.ok;
  }
  if (name.startsWith('-')) throw usage(`unknown flag '${name}' (flags go after the command)`);
  // An own-property lookup: `kvlar constructor` is an unknown command, not Object's.
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (load === undefined) {
    throw usage(`unknown command '${name}'${didYouMean(name, Object.keys(commands), "'")}`);
  }
  return runCommandLine(await load(), `kvlar ${name}`, rest, runtime);
}

/** Runs a command, or for a group (`kvlar audit`) picks its sub-command from `rest`. */
async function runCommandLine(
  command: AnyCommand,
  fullName: string,
  rest: readonly string[],
  runtime: Runtime,
): Promise<number> {
  const subCommands = await resolveValue(command.subCommands);
  if (subCommands !== undefined) {
    const [name, ...subRest] = rest;
    if (name === undefined) {
      runtime.logger.error(await usageOf(command, parentOf(fullName), runtime.colors.stderr));
      return ExitCode.usage;
    }
    if (name === '--help' || name === '-h') {
      runtime.print(await usageOf(command, parentOf(fullName), runtime.colors.stdout));
      return ExitCode.ok;
    }
    const usage = (message: string) => new CliError('usage', message, { command: fullName });
    if (name.startsWith('-')) throw usage(`unknown flag '${name}' (flags go after the command)`);
    const load = Object.hasOwn(subCommands, name) ? subCommands[name] : undefined;
    if (load === undefined) {
      const names = Object.keys(subCommands);
      throw usage(`unknown command '${fullName} ${name}'${didYouMean(name, names, "'")}`);
    }
    const sub = await resolveValue(load);
    if (sub === undefined) throw usage(`unknown command '${fullName} ${name}'`);
    return runCommandLine(sub as AnyCommand, `${fullName} ${name}`, subRest, runtime);
  }
  if (wantsHelp(rest)) {
    runtime.print(await usageOf(command, parentOf(fullName), runtime.colors.stdout));
    return ExitCode.ok;
  }
  const defs = typeof command.args === 'function' ? await command.args() : await command.args;
  // `kvlar proxy … -- CMD ARGS…`: what follows `--` is the server's command line, not ours.
  const ours =
    PASSES_COMMAND.has(fullName) && rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  checkArgs(ours, defs ?? {}, fullName);
  const { result } = await runCommand(command, { rawArgs: [...rest], data: runtime });
  return isExitStatus(result) ? result : ExitCode.ok;
}

/** Commands that run another program given after `--`. */
const PASSES_COMMAND = new Set(['kvlar proxy', 'kvlar lint']);

/** `kvlar audit verify` → `kvlar audit`: what the help line puts before the command's name. */
function parentOf(fullName: string): string {
  return fullName.slice(0, fullName.lastIndexOf(' '));
}

type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);

async function resolveValue<T>(value: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : await value;
}

function reportError(error: unknown, runtime: Runtime): ExitCode {
  const { logger } = runtime;
  if (KvlarError.isInstance(error)) {
    logger.error(`error: ${error.message}`);
    if (error.code !== 'usage') return ExitCode.failure;
    const command = error instanceof CliError ? error.command : undefined;
    logger.error(`Run '${command ?? 'kvlar'} --help' for usage.`);
    return ExitCode.usage;
  }
  if (isCittyError(error)) {
    // citty's own argument errors (its checks run after ours, so this is a safety net).
    logger.error(`error: ${error.message}`);
    return ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  logger.error(`error: internal error: ${message} (set KVLAR_DEBUG=1 for details)`);
  if (error instanceof Error && error.stack !== undefined) logger.debug(error.stack);
  return ExitCode.failure;
}

function isCittyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'CLIError';
}

/** What a command may return: an exit status a process can have. */
function isExitStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255;
}
