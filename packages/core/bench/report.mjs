/** The human-readable report: plain aligned tables, numbers right-aligned. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

export const formatInteger = (value) => integer.format(value);
export const formatRatio = (value) => `${oneDecimal.format(value)}×`;
export const formatMs = (value) => oneDecimal.format(value);
export const formatKiB = (bytes) => integer.format(bytes / 1024);

/** `rows` are arrays of strings; the column indexes in `leftAligned` align left, the rest right. */
export function table(headers, rows, leftAligned = new Set()) {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells) =>
    cells
      .map((cell, column) =>
        leftAligned.has(column) ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

export function renderReport(report) {
  const { machine, settings, baselines, results, compile, heap, targets } = report;
  const out = [];
  out.push(
    `Kvlar engine benchmark: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ` +
      `seed ${settings.seed}, core ${settings.core}` +
      `${settings.quick ? ' (quick run: numbers are rough)' : ''}`,
  );
  out.push(
    `Load average ${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd} at end; ` +
      `${report.durationS} s in all.`,
  );
  out.push('');
  out.push('Same-run baselines:');
  out.push(
    table(
      ['baseline', 'median ns', 'p99 ns', 'calls/s'],
      baselines.map((b) => [
        b.name,
        formatInteger(b.medianNs),
        formatInteger(b.p99Ns),
        formatInteger(b.decisionsPerSecond),
      ]),
      new Set([0]),
    ),
  );
  out.push('');
  out.push(
    'Decisions (ns per decision; p99 is over batches of ~50 µs; "names match" counts the rules ' +
      'up to the deciding one that admit the tool, whose arguments must be checked):',
  );
  out.push(
    table(
      [
        'rules',
        'position',
        'path',
        'names match',
        'median ns',
        'p99 ns',
        'decisions/s',
        'vs floor',
        'vs 1-rule',
        'decision',
      ],
      results.map((r) => [
        formatInteger(r.rules),
        r.position,
        r.path,
        formatInteger(r.nameMatches),
        formatInteger(r.medianNs),
        formatInteger(r.p99Ns),
        formatInteger(r.decisionsPerSecond),
        formatRatio(r.vsFloor),
        formatRatio(r.vsOneRule),
        `${r.decision.type} (${r.decision.ruleId})`,
      ]),
      new Set([1, 2, 9]),
    ),
  );
  out.push('');
  out.push(
    'Compile (median ms of parsePolicy, then resolvePolicy + createEngine; "first" is the first ' +
      'build of that size, which for 10 rules includes loading the parser; heap retained per engine):',
  );
  out.push(
    table(
      ['rules', 'YAML KiB', 'parse ms', 'engine ms', 'total ms', 'first ms', 'heap KiB'],
      compile.map((c) => {
        const retained = heap.find((h) => h.rules === c.rules);
        return [
          formatInteger(c.rules),
          formatKiB(c.yamlBytes),
          formatMs(c.parseMs),
          formatMs(c.engineMs),
          formatMs(c.totalMs),
          formatMs(c.firstMs),
          retained === undefined ? 'n/a' : formatKiB(retained.bytes),
        ];
      }),
    ),
  );
  if (heap.length === 0) out.push('(heap not measured: run node with --expose-gc)');
  out.push('');
  out.push('Targets (the slowest median among early, late and absent):');
  for (const t of targets) {
    out.push(
      `  ${formatInteger(t.rules)} rules, ${t.path}: ${formatInteger(t.worstMedianNs)} ns ` +
        `against ≤ ${formatInteger(t.limitNs)} ns: ${t.met ? 'met' : 'MISSED'}`,
    );
  }
  return out.join('\n');
}
