import { EXPORT_FORMATS, exportRecords, parseExportFormat } from '@kvlar/audit';
import { defineCommand } from 'citty';
import {
  auditFilterArgs,
  auditLogArg,
  filterFromFlags,
  readRecordsFor,
  reportSkipped,
} from '../audit-files.js';
import { CliError, ExitCode } from '../errors.js';
import { absoluteFrom, displayPath } from '../paths.js';
import { describeFsError } from '../read-text.js';
import { runtimeOf } from '../runtime.js';
import { VERSION } from '../version.js';
import { writeFileAtomic } from '../write-file.js';

const COMMAND = 'kvlar audit export';

export const auditExportCommand = defineCommand({
  meta: { name: 'export', description: 'Export audit events as JSON lines, CSV or CEF, filtered' },
  args: {
    file: auditLogArg,
    format: {
      type: 'string',
      valueHint: 'jsonl|csv|cef',
      description: 'Output format (default: jsonl)',
    },
    output: {
      type: 'string',
      alias: 'o',
      valueHint: 'file',
      description: 'Write to this file (atomically) instead of stdout',
    },
    ...auditFilterArgs,
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const usage = (message: string) => new CliError('usage', message, { command: COMMAND });
    const format = parseExportFormat(args.format ?? 'jsonl');
    if (format === undefined) {
      throw usage(`unknown format '${args.format}' (use one of: ${EXPORT_FORMATS.join(', ')})`);
    }
    const filter = filterFromFlags(args, COMMAND);

    const read = await readRecordsFor(runtime, args.file);
    reportSkipped(runtime, read.skipped);
    const { text, count } = exportRecords(read.records, format, { filter, version: VERSION });
    if (args.output === undefined) {
      // The text ends in a newline; print adds the last one back.
      if (text !== '') runtime.print(text.slice(0, -1));
      return ExitCode.ok;
    }
    const target = absoluteFrom(runtime.cwd, args.output);
    const shown = displayPath(target, runtime.cwd);
    if (read.files.includes(target)) {
      throw new CliError(
        'invalid_input',
        `refusing to overwrite the audit log ${shown} with its export`,
      );
    }
    try {
      writeFileAtomic(target, text);
    } catch (error) {
      throw new CliError('invalid_input', `cannot write ${shown}: ${describeFsError(error)}`, {
        cause: error,
      });
    }
    runtime.logger.info(
      `${runtime.colors.stderr.green('✓')} Exported ${count} events (${format.toUpperCase()} format)`,
    );
    return ExitCode.ok;
  },
});
