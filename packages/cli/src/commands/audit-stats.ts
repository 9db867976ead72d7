import { auditStats, formatStats, matchesFilter } from '@kvlar/audit';
import { defineCommand } from 'citty';
import {
  auditFilterArgs,
  auditLogArg,
  filterFromFlags,
  readRecordsFor,
  reportSkipped,
} from '../audit-files.js';
import { ExitCode } from '../errors.js';
import { displayPath } from '../paths.js';
import { runtimeOf } from '../runtime.js';

export const auditStatsCommand = defineCommand({
  meta: {
    name: 'stats',
    description: 'Summarise an audit log: outcomes, period, top resources and agents',
  },
  args: {
    file: auditLogArg,
    json: { type: 'boolean', description: 'Print the statistics as JSON on stdout' },
    ...auditFilterArgs,
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { file, json } = context.args;
    const filter = filterFromFlags(context.args, 'kvlar audit stats');
    const read = await readRecordsFor(runtime, file);
    reportSkipped(runtime, read.skipped);
    // Over the records the filter keeps: `--agent claude` summarises what claude did.
    const stats = auditStats(read.records.filter((record) => matchesFilter(record, filter)));
    if (json === true) {
      runtime.printJson({
        file,
        files: read.files.map((path) => displayPath(path, runtime.cwd)),
        skipped: read.skipped.length,
        ...stats,
      });
    } else {
      for (const line of formatStats(stats, file)) runtime.print(line);
    }
    return ExitCode.ok;
  },
});
