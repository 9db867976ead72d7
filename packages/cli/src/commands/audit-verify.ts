import {
  type ChainBreak,
  type FilesVerification,
  type VerifyWarning,
  verifyFiles,
} from '@kvlar/audit';
import { defineCommand } from 'citty';
import { unreadable } from '../audit-files.js';
import { ExitCode } from '../errors.js';
import { absoluteFrom, displayPath } from '../paths.js';
import { type Runtime, runtimeOf } from '../runtime.js';

export const auditVerifyCommand = defineCommand({
  meta: {
    name: 'verify',
    description: 'Check the hash chain of an audit log; name the first broken link',
  },
  args: {
    path: {
      type: 'positional',
      required: true,
      valueHint: 'file|dir',
      description: 'An audit log (its rotated files are found beside it), or a directory of logs',
    },
    json: { type: 'boolean', description: 'Print the result as JSON on stdout' },
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const target = absoluteFrom(runtime.cwd, context.args.path);
    let result: FilesVerification;
    try {
      result = await verifyFiles(target);
    } catch (error) {
      throw unreadable(runtime, target, error);
    }
    for (const warning of result.warnings)
      runtime.logger.warn(located(runtime, warning, 'warning'));
    const empty = result.files === 0;
    if (empty) {
      runtime.logger.warn(`warning: no .jsonl files found in ${displayPath(target, runtime.cwd)}`);
    }
    if (!result.ok) runtime.logger.error(located(runtime, result.failure, 'error'));
    if (context.args.json === true) runtime.printJson(resultJson(runtime, result, empty));
    else if (result.ok && !empty) {
      const { files, records, chains } = result;
      runtime.print(
        `${runtime.colors.stdout.green('✓')} Audit log intact: ${plural(records, 'record')} in ${plural(files, 'file')}, ${plural(chains, 'chain')}`,
      );
    }
    return result.ok && !empty ? ExitCode.ok : ExitCode.failure;
  },
});

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `logs/audit.jsonl:7: error: edited: the record was edited: …` */
function located(
  runtime: Runtime,
  problem: ChainBreak | VerifyWarning,
  severity: 'error' | 'warning',
): string {
  const file = problem.file === undefined ? '' : `${displayPath(problem.file, runtime.cwd)}:`;
  return `${file}${problem.line}: ${severity}: ${problem.reason}: ${problem.message}`;
}

function problemJson(
  runtime: Runtime,
  problem: ChainBreak | VerifyWarning,
): Record<string, unknown> {
  return {
    file: problem.file === undefined ? null : displayPath(problem.file, runtime.cwd),
    line: problem.line,
    reason: problem.reason,
    message: problem.message,
  };
}

function resultJson(
  runtime: Runtime,
  result: FilesVerification,
  empty: boolean,
): Record<string, unknown> {
  return {
    ok: result.ok && !empty,
    chains: result.chains,
    files: result.files,
    records: result.records,
    warnings: result.warnings.map((warning) => problemJson(runtime, warning)),
    failure: result.ok ? null : problemJson(runtime, result.failure),
  };
}
