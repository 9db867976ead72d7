/** The human-readable report of the proxy benchmark, as markdown. */
import { formatInteger } from '../../core/bench/report.mjs';

const oneDecimal = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
const twoDecimals = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const formatMb = (bytes) => (bytes === undefined ? 'n/a' : oneDecimal.format(bytes / 1e6));

/** A markdown table with padded cells; columns in `leftAligned` align left, the rest right. */
export function markdownTable(headers, rows, leftAligned = new Set()) {
  const widths = headers.map((header, column) =>
    Math.max(3, header.length, ...rows.map((row) => row[column].length)),
  );
  const pad = (cell, column) =>
    leftAligned.has(column) ? cell.padEnd(widths[column]) : cell.padStart(widths[column]);
  const line = (cells) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = widths.map((width, column) =>
    leftAligned.has(column) ? `:${'-'.repeat(width - 1)}` : `${'-'.repeat(width - 1)}:`,
  );
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

function resultRow(result) {
  if (!result.available) return [result.mode, ...Array(8).fill('—')];
  const { latency, pipelined, blob, memory } = result;
  return [
    result.mode,
    oneDecimal.format(result.connectMs),
    formatInteger(latency.p50Us),
    formatInteger(latency.p99Us),
    formatInteger(latency.addedP50Us),
    formatInteger(pipelined.callsPerSecond),
    blob.mbPerSecond === undefined ? '—' : oneDecimal.format(blob.mbPerSecond),
    formatMb(memory?.middle?.peakRssBytes),
    formatMb(memory?.server?.peakRssBytes),
  ];
}

const formatterFor = (unit) =>
  unit === 'bytes'
    ? (value) => `${formatMb(value)} MB`
    : (value) => `${twoDecimals.format(value)}×`;

function formatValue({ value, unit }) {
  if (value === undefined || value === null || !Number.isFinite(value)) return 'n/a';
  return formatterFor(unit)(value);
}

function formatTarget({ target, unit }) {
  if (target === undefined) return '';
  const scale = formatterFor(unit);
  if (target.min !== undefined) return `≥ ${scale(target.min)}`;
  if (target.max !== undefined && target.max !== null) return `≤ ${scale(target.max)}`;
  return 'none set';
}

export function renderReport(report) {
  const { machine, settings, results, comparison } = report;
  const out = [];
  out.push(
    `Kvlar proxy benchmark: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ` +
      `${machine.platform}${settings.quick ? ' (quick run: numbers are rough)' : ''}`,
  );
  out.push(
    `Load average ${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd} at end; ` +
      `${report.durationS} s in all. ${settings.rounds} interleaved rounds, each of ` +
      `${formatInteger(settings.latencyCalls)} sequential echo calls, ` +
      `${formatInteger(settings.pipelinedCalls)} pipelined (${settings.inFlight} in flight) and ` +
      `${settings.blobCalls} blobs of ${formatMb(settings.blobBytes)} MB.`,
  );
  out.push('');
  out.push(
    markdownTable(
      [
        'mode',
        'connect ms',
        'p50 µs',
        'p99 µs',
        'added p50 µs',
        'pipelined calls/s',
        'blob MB/s',
        'peak RSS MB',
        'server peak RSS MB',
      ],
      results.map(resultRow),
      new Set([0]),
    ),
  );
  out.push('');
  out.push(
    'p50/p99 are over every sequential call of every round; calls/s and MB/s are the median ' +
      'round. "added" is over direct. "peak RSS" is VmHWM of the process the client spawned ' +
      '(for direct, the server itself); MB are 10⁶ bytes.',
  );
  for (const result of results.filter((r) => !r.available)) {
    out.push('');
    out.push(`${result.mode}: unavailable: ${result.reason}`);
  }
  out.push('');
  out.push('Against the relay (and the parse relay, reported):');
  out.push('');
  if (!comparison.available) {
    out.push(`n/a (${comparison.reason})`);
  } else {
    out.push(
      markdownTable(
        ['measure', 'value', 'target', 'verdict'],
        comparison.ratios.map((ratio) => [
          ratio.name,
          formatValue(ratio),
          formatTarget(ratio),
          ratio.verdict,
        ]),
        new Set([0, 2, 3]),
      ),
    );
  }
  return out.join('\n');
}
