/**
 * The soak: the load test's checks (load-driver.mjs) at full size. By default 100,000 calls over
 * stdio with 64 in flight, then 100,000 over TCP from 16 clients (64 in flight each), once with a
 * server spawned per connection and once through `--upstream`. A quarter of the calls are denied.
 *
 * Prints a markdown report on stdout (progress on stderr) and exits 1 on any failed check: a
 * lost, duplicated, misrouted or wrong answer, a server that did not receive exactly the allowed
 * calls, an audit without exactly one record per call or whose chain does not verify, an unclean
 * exit, or memory that did not stay flat: the proxy's RSS at the end above its RSS in the middle
 * by more than 30% + 20 MB. Speed is reported, never judged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineFacts } from '../../core/bench/harness.mjs';
import {
  DEFAULT_CLI,
  memoryProblem,
  renderLoadReport,
  runLoad,
  TRANSPORTS,
} from './load-driver.mjs';

const { values: options } = parseArgs({
  options: {
    calls: { type: 'string', default: '100000' },
    'in-flight': { type: 'string', default: '64' },
    clients: { type: 'string', default: '16' },
    transport: { type: 'string', multiple: true },
    cli: { type: 'string', default: DEFAULT_CLI },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  process.stdout.write(
    [
      'usage: node packages/cli/bench/soak.mjs [options]',
      '  --calls N         calls per transport (default 100000)',
      '  --in-flight K     calls in flight per client (default 64)',
      '  --clients C       TCP clients (default 16; stdio has one)',
      `  --transport T     one of ${TRANSPORTS.join(', ')}; repeat for several (default all)`,
      '  --cli FILE        the kvlar binary to run (default packages/cli/dist/bin.js)',
      '  --keep            keep the working directory (audit logs, server records)',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const calls = Number(options.calls);
const inFlight = Number(options['in-flight']);
const clients = Number(options.clients);
const transports = options.transport ?? TRANSPORTS;
for (const [flag, value] of [
  ['--calls', calls],
  ['--in-flight', inFlight],
  ['--clients', clients],
]) {
  if (!Number.isSafeInteger(value) || value < 1) {
    process.stderr.write(`${flag} takes a whole number of at least 1\n`);
    process.exit(2);
  }
}
for (const transport of transports) {
  if (!TRANSPORTS.includes(transport)) {
    process.stderr.write(`unknown transport ${transport}: one of ${TRANSPORTS.join(', ')}\n`);
    process.exit(2);
  }
}

const progress = (message) => process.stderr.write(`${message}\n`);
const machine = machineFacts();
progress(`kvlar soak: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`);
const root = await mkdtemp(join(os.tmpdir(), 'kvlar-soak-'));
const started = Date.now();
const reports = [];
try {
  for (const transport of transports) {
    progress(`${transport}: ${calls} calls…`);
    const dir = join(root, transport);
    const report = await runLoad({
      transport,
      calls,
      inFlight,
      clients,
      dir,
      cli: options.cli,
      onProgress: progress,
    });
    const memory = memoryProblem(report.rss);
    if (memory !== undefined) report.failures.push(memory);
    progress(`${transport}: ${report.failures.length === 0 ? 'pass' : 'FAIL'}`);
    reports.push(report);
  }
} finally {
  if (options.keep) progress(`kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}

const seconds = ((Date.now() - started) / 1000).toFixed(0);
const lines = [
  `Kvlar soak: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}`,
  `Load average ${machine.loadAverageAtStart} at start, ${os.loadavg()[0].toFixed(2)} at end; ${seconds} s in all. A quarter of the calls denied by policy; JSONL audit on.`,
  '',
  renderLoadReport(reports),
  '',
  'RSS is VmRSS of the kvlar process after 10% of the calls (start), 50% (middle) and 100% (end); peak is VmHWM. Memory is flat if end ≤ middle × 1.3 + 20 MB. At each tenth of the calls, RSS in MB:',
  '',
  ...reports.map(
    (report) =>
      `- ${report.transport}: ${report.rss.timeline.map((sample) => (sample.rssBytes === undefined ? 'n/a' : (sample.rssBytes / 1e6).toFixed(0))).join(', ')}`,
  ),
];
const failed = reports.filter((report) => report.failures.length > 0);
for (const report of failed) {
  lines.push(
    '',
    `${report.transport} failed:`,
    ...report.failures.map((failure) => `- ${failure}`),
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = failed.length === 0 ? 0 : 1;
