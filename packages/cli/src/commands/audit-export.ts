import { statSync } from 'node:fs';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  exportRecords,
  parseExportFormat,
  safeText,
} from '@kvlar/audit';
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
      const shown = runtime.stdoutIsTerminal ? forTerminal(text, format) : text;
      // The text ends in a newline; print adds the last one back.
      if (shown !== '') runtime.print(shown.slice(0, -1));
      return ExitCode.ok;
    }
    const target = absoluteFrom(runtime.cwd, args.output);
    const shown = displayPath(target, runtime.cwd);
    if (isOneOf(target, read.files)) {
      throw new CliError(
        'invalid_input',
        `refusing to overwrite the audit log ${shown} with its export`,
      );
    }
    try {
      // Owner only, like the log: an export is a copy of its records.
      writeFileAtomic(target, text, { mode: 0o600 });
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

/**
 * Whether `target` is one of `files` under any name: the same path, or the same file (device and
 * inode) reached through a symlink, a linked directory or a hard link. Replacing it would put the
 * export in place of the log.
 */
function isOneOf(target: string, files: readonly string[]): boolean {
  if (files.includes(target)) return true;
  const existing = identity(target);
  if (existing === undefined) return false;
  return files.some((file) => {
    const info = identity(file);
    return info !== undefined && info.dev === existing.dev && info.ino === existing.ino;
  });
}

function identity(path: string): { readonly dev: number; readonly ino: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined; // nothing there (or unreadable): the write itself will say
  }
}

/**
 * The export as a terminal should show it. Fields hold tool names and agent ids that clients
 * chose: an escape sequence in one would move the cursor over other rows, a line break inside a
 * quoted CSV cell would forge a row. So the characters `audit tail` escapes become `\uXXXX`,
 * except the format's own record ends. Only for a terminal: a pipe or `-o` gets the exact bytes,
 * since a program reading them must see the values as recorded.
 */
function forTerminal(text: string, format: ExportFormat): string {
  if (format !== 'csv') return text.split('\n').map(safeText).join('\n');
  // A CSV record ends at a CRLF outside quotes; inside quotes it is part of a cell.
  const rows: string[] = [];
  let start = 0;
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '\r' && text[index + 1] === '\n') {
      rows.push(text.slice(start, index));
      start = index + 2;
      index++;
    }
  }
  rows.push(text.slice(start));
  return rows.map(safeText).join('\r\n');
}
