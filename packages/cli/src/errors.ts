import { KvlarError } from '@kvlar/core';

/**
 * `usage`: the command line itself is wrong (unknown command or flag, missing value); exit 2.
 * `invalid_input`: the command line is fine but what it points at is not; exit 1.
 * A KvlarError (the one error base class) that also knows which command's `--help` to point at.
 */
export type CliErrorCode = 'usage' | 'invalid_input';

export class CliError extends KvlarError {
  /** For usage errors: the command whose `--help` the message points at (`kvlar validate`). */
  readonly command: string | undefined;

  constructor(
    code: CliErrorCode,
    message: string,
    options: { cause?: unknown; command?: string } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'CliError';
    this.command = options.command;
  }
}

/** 0 ok; 1 invalid input, policy errors, failing tests; 2 the command line is wrong. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
