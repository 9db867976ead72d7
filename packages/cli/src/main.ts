/**
 * The one error boundary: dispatch argv to a command, map what goes wrong to an exit code.
 * Nothing here calls process.exit, so `main` can run in-process (tests, embedders).
 */
import { didYouMean, KvlarError } from '@kvlar/core';
import { runCommand } from 'citty';
import { checkArgs, wantsHelp } from './args.js';
import { commands, rootCommand } from './commands/index.js';
import { CliError, ExitCode } from './errors.js';
import { createRuntime, type Io, processIo, type Runtime } from './runtime.js';
import { usageOf } from './usage.js';
import { VERSION } from './version.js';

export async function main(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const runtime = createRuntime(io);
  try {
    return await dispatch(argv, runtime);
  } catch (error) {
    return reportError(error, runtime);
  }
}

async function dispatch(argv: readonly string[], runtime: Runtime): Promise<ExitCode> {
  const root = rootCommand;
  const [name, ...rest] = argv;
  const usage = (message: string) => new CliError('usage', message, { command: 'kvlar' });
  if (name === undefined) {
    // Like a missing required flag: say what there is, on stderr, and fail as a usage error.
    runtime.logger.error(await usageOf(root, undefined, runtime.colors.stderr));
    return ExitCode.usage;
  }
  if (name === '--help' || name === '-h') {
    runtime.print(await usageOf(root, undefined, runtime.colors.stdout));
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
  const command = await load();
  if (wantsHelp(rest)) {
    runtime.print(await usageOf(command, root, runtime.colors.stdout));
    return ExitCode.ok;
  }
  const defs = typeof command.args === 'function' ? await command.args() : await command.args;
  checkArgs(rest, defs ?? {}, `kvlar ${name}`);
  const { result } = await runCommand(command, { rawArgs: [...rest], data: runtime });
  return isExitCode(result) ? result : ExitCode.ok;
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

function isExitCode(value: unknown): value is ExitCode {
  return value === ExitCode.ok || value === ExitCode.failure || value === ExitCode.usage;
}
