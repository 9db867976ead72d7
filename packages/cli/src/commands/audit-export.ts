import {
  EXPORT_FORMATS,
  type ExportFilter,
  exportRecords,
  OUTCOMES,
  parseExportFormat,
  parseOutcome,
  parseRfc3339,
} from '@kvlar/audit';
import { defineCommand } from 'citty';
import {
  auditKindArg,
  auditLogArg,
  kindFlag,
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
    since: {
      type: 'string',
      valueHint: 'time',
      description: 'Only events at or after this RFC 3339 time',
    },
    until: {
      type: 'string',
      valueHint: 'time',
      description: 'Only events at or before this RFC 3339 time',
    },
    outcome: {
      type: 'string',
      valueHint: 'outcome',
      description: 'Only this outcome: allowed, denied or pending_approval',
    },
    resource: {
      type: 'string',
      valueHint: 'text',
      description: 'Only resources containing this text',
    },
    agent: {
      type: 'string',
      valueHint: 'text',
      description: 'Only agent ids containing this text',
    },
    server: { type: 'string', valueHint: 'text', description: 'Only servers containing this text' },
    kind: auditKindArg,
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const usage = (message: string) => new CliError('usage', message, { command: COMMAND });
    const format = parseExportFormat(args.format ?? 'jsonl');
    if (format === undefined) {
      throw usage(`unknown format '${args.format}' (use one of: ${EXPORT_FORMATS.join(', ')})`);
    }
    const time = (flag: 'since' | 'until'): number | undefined => {
      const text = args[flag];
      if (text === undefined) return undefined;
      const parsed = parseRfc3339(text);
      if (parsed === undefined) {
        throw usage(`--${flag} '${text}' is not an RFC 3339 time (like 2026-03-01T00:00:00Z)`);
      }
      return parsed;
    };
    const outcome = args.outcome === undefined ? undefined : parseOutcome(args.outcome);
    if (args.outcome !== undefined && outcome === undefined) {
      throw usage(`unknown outcome '${args.outcome}' (use one of: ${OUTCOMES.join(', ')})`);
    }
    const since = time('since');
    const until = time('until');
    const kind = kindFlag(args.kind, COMMAND);
    const filter: ExportFilter = {
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      ...(outcome === undefined ? {} : { outcome }),
      ...(args.resource === undefined ? {} : { resource: args.resource }),
      ...(args.agent === undefined ? {} : { agent: args.agent }),
      ...(args.server === undefined ? {} : { server: args.server }),
      ...(kind === undefined ? {} : { kind }),
    };

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
