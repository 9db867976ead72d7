import {
  type AuditRecord,
  type AuditTail,
  formatRecordHuman,
  matchesFilter,
  openAuditTail,
} from '@kvlar/audit';
import { defineCommand } from 'citty';
import {
  auditFilterArgs,
  auditLogArg,
  filterFromFlags,
  reportSkipped,
  unreadable,
} from '../audit-files.js';
import { CliError, ExitCode } from '../errors.js';
import { absoluteFrom } from '../paths.js';
import { runtimeOf } from '../runtime.js';

const COMMAND = 'kvlar audit tail';
const DEFAULT_LINES = 10;
/** How often `--follow` looks for new lines: quick enough to watch, cheap enough to leave running. */
const POLL_MS = 200;

export const auditTailCommand = defineCommand({
  meta: {
    name: 'tail',
    description: 'Print the last audit events; with --follow, keep printing new ones',
  },
  args: {
    file: auditLogArg,
    follow: {
      type: 'boolean',
      alias: 'F',
      description: 'Keep running and print events as they are appended, across rotations',
    },
    lines: {
      type: 'string',
      alias: 'n',
      valueHint: 'n',
      description: `How many of the last events to print first (default: ${DEFAULT_LINES})`,
    },
    json: { type: 'boolean', description: 'Print the events as the stored JSON lines' },
    ...auditFilterArgs,
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const count = args.lines === undefined ? DEFAULT_LINES : parseCount(args.lines);
    const filter = filterFromFlags(args, COMMAND);
    const color = runtime.colors.stdout.enabled;
    const show = (record: AuditRecord) => {
      if (!matchesFilter(record, filter)) return;
      runtime.print(args.json === true ? record.line : formatRecordHuman(record, color));
    };

    const target = absoluteFrom(runtime.cwd, args.file);
    // Stopping is how --follow ends: a signal that comes while the log is still being read (a
    // large log, a caller that gave up at once) ends it as cleanly as one that comes later.
    const stop = args.follow === true ? stopOnSignals() : undefined;
    try {
      let tail: AuditTail;
      try {
        tail = await openAuditTail(target);
      } catch (error) {
        throw unreadable(runtime, target, error);
      }
      try {
        reportSkipped(runtime, tail.skipped);
        // -n counts the records the filters keep.
        const kept = tail.records.filter((record) => matchesFilter(record, filter));
        for (const record of count === 0 ? [] : kept.slice(-count)) show(record);
        if (stop !== undefined)
          await follow(tail, show, (skipped) => reportSkipped(runtime, skipped), stop);
      } finally {
        await tail.close();
      }
    } finally {
      stop?.dispose();
    }
    return ExitCode.ok;
  },
});

function parseCount(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new CliError('usage', `-n '${text}' is not a whole number of events`, {
      command: COMMAND,
    });
  }
  return Number(text);
}

/** SIGINT, SIGTERM, or the reader of stdout gone (`tail -F | head`): `--follow` stops, exit 0. */
interface Stop {
  readonly requested: () => boolean;
  readonly stopped: Promise<void>;
  readonly dispose: () => void;
}

function stopOnSignals(): Stop {
  let requested = false;
  let resolve: () => void = () => {};
  const stopped = new Promise<void>((done) => {
    resolve = done;
  });
  const onSignal = () => {
    requested = true;
    resolve();
  };
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') onSignal();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', onStdoutError);
  return {
    requested: () => requested,
    stopped,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', onStdoutError);
    },
  };
}

/** Polls for new lines until `stop` is requested. */
async function follow(
  tail: AuditTail,
  show: (record: AuditRecord) => void,
  report: (skipped: Awaited<ReturnType<AuditTail['poll']>>['skipped']) => void,
  stop: Stop,
): Promise<void> {
  while (!stop.requested()) {
    const { records, skipped } = await tail.poll();
    report(skipped);
    for (const record of records) show(record);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      stop.stopped,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, POLL_MS);
      }),
    ]);
    clearTimeout(timer);
  }
}
