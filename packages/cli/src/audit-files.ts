/** Reading audit logs for the `kvlar audit` commands: paths as the user typed them, errors as CliErrors. */
import {
  type ExportFilter,
  OUTCOMES,
  parseOutcome,
  parseRecordKind,
  parseRfc3339,
  RECORD_KINDS,
  type RecordsRead,
  readAuditRecords,
  type SkippedLine,
} from '@kvlar/audit';
import { CliError } from './errors.js';
import { absoluteFrom, displayPath } from './paths.js';
import { describeFsError } from './read-text.js';
import type { Runtime } from './runtime.js';

/** The records of a log (with its rotated files) or of every log in a directory. */
export async function readRecordsFor(runtime: Runtime, path: string): Promise<RecordsRead> {
  const target = absoluteFrom(runtime.cwd, path);
  try {
    return await readAuditRecords(target);
  } catch (error) {
    throw unreadable(runtime, target, error);
  }
}

/** `cannot read logs/audit.jsonl: no such file or directory`, from an AuditError or an fs error. */
export function unreadable(runtime: Runtime, target: string, error: unknown): CliError {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const shown = displayPath(target, runtime.cwd);
  return new CliError('invalid_input', `cannot read ${shown}: ${describeFsError(cause)}`, {
    cause: error,
  });
}

/** Lines that are not records are skipped, as the Rust Kvlar did, but never silently. */
export function reportSkipped(runtime: Runtime, skipped: readonly SkippedLine[]): void {
  const first = skipped[0];
  if (first === undefined) return;
  const where = `${first.file === undefined ? '' : `${displayPath(first.file, runtime.cwd)}:`}${first.line}`;
  const count =
    skipped.length === 1
      ? '1 line that is not an audit record'
      : `${skipped.length} lines that are not audit records`;
  runtime.logger.warn(`warning: skipped ${count} (first: ${where}: ${first.message})`);
}

/** `-f, --file FILE|DIR`, as every `kvlar audit` command that reads a log declares it. */
export const auditLogArg = {
  type: 'string',
  alias: 'f',
  required: true,
  valueHint: 'file|dir',
  description: 'An audit log (with its rotated files), or a directory of logs',
} as const;

/**
 * The Rust filters (`--since`, `--until`, `--outcome`, `--resource`, `--agent`), `--server` and
 * `--kind`, as `kvlar audit export`, `stats` and `tail` declare them.
 */
export const auditFilterArgs = {
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
  kind: {
    type: 'string',
    valueHint: 'kind',
    description: "Only this kind of record: decisions, or results (the server's answers)",
  },
} as const;

type FilterFlags = {
  readonly [Name in keyof typeof auditFilterArgs]?: string | undefined;
};

/** The filter the flags of `auditFilterArgs` ask for; a bad value is a usage error of `command`. */
export function filterFromFlags(flags: FilterFlags, command: string): ExportFilter {
  const usage = (message: string) => new CliError('usage', message, { command });
  const time = (flag: 'since' | 'until'): number | undefined => {
    const text = flags[flag];
    if (text === undefined) return undefined;
    const parsed = parseRfc3339(text);
    if (parsed === undefined) {
      throw usage(`--${flag} '${text}' is not an RFC 3339 time (like 2026-03-01T00:00:00Z)`);
    }
    return parsed;
  };
  const outcome = flags.outcome === undefined ? undefined : parseOutcome(flags.outcome);
  if (flags.outcome !== undefined && outcome === undefined) {
    throw usage(`unknown outcome '${flags.outcome}' (use one of: ${OUTCOMES.join(', ')})`);
  }
  const kind = flags.kind === undefined ? undefined : parseRecordKind(flags.kind);
  if (flags.kind !== undefined && kind === undefined) {
    throw usage(`unknown kind '${flags.kind}' (use one of: ${RECORD_KINDS.join(', ')})`);
  }
  const since = time('since');
  const until = time('until');
  return {
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(outcome === undefined ? {} : { outcome }),
    ...(flags.resource === undefined ? {} : { resource: flags.resource }),
    ...(flags.agent === undefined ? {} : { agent: flags.agent }),
    ...(flags.server === undefined ? {} : { server: flags.server }),
    ...(kind === undefined ? {} : { kind }),
  };
}
