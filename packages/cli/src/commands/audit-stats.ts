import { auditStats, formatStats } from '@kvlar/audit';
import { defineCommand } from 'citty';
import { auditLogArg, readRecordsFor, reportSkipped } from '../audit-files.js';
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
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { file, json } = context.args;
    const read = await readRecordsFor(runtime, file);
    reportSkipped(runtime, read.skipped);
    const stats = auditStats(read.records);
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
