/**
 * `pnpm bench`: decisions per second and nanoseconds per decision of @kvlar/core's engine for
 * generated policies of 10, 100 and 1,000 rules, with the deciding rule early, late or absent,
 * on the warm path (memoised name checks) and the cold path (`cacheSize: 0`). Prints a table,
 * or JSON with `--json`. It reports numbers and asserts only decisions, never timings.
 *
 * Run with `node --expose-gc` so the retained heap of each engine can be measured.
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { calibrate, machineFacts, median, sample, summarize, warmUp } from './harness.mjs';
import { actionsFor, GUARD_RAIL_EVERY, generatePolicy } from './policy-generator.mjs';
import { renderReport } from './report.mjs';

const SIZES = [10, 100, 1000];
const TARGETS = [
  { rules: 100, limitNs: 1000 },
  { rules: 1000, limitNs: 5000 },
];
const COMPILE_REPEATS = { 10: 50, 100: 20, 1000: 6 };

const { values: options } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '0x6b766c72' },
    core: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  process.stdout.write(
    [
      'usage: node --expose-gc packages/core/bench/engine.bench.mjs [options]',
      '  --json       print the results as JSON instead of tables',
      '  --quick      a short run to check the benchmark works; the numbers are rough',
      '  --seed N     another seed for the generated policies (default 0x6b766c72)',
      '  --core FILE  benchmark another build of @kvlar/core (its dist/index.js), e.g. before/after',
      '',
    ].join('\n'),
  );
  process.exit(0);
}
// Loaded by name by default, as a user of the package would; `--core` is for A/B comparisons.
const { createEngine, formatIssue, parsePolicy, resolvePolicy } = await import(
  options.core === undefined ? '@kvlar/core' : pathToFileURL(resolve(options.core)).href
);
const seed = Number(options.seed);
if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${options.seed}`);

const settings = {
  seed: options.seed,
  core: options.core ?? '@kvlar/core',
  quick: options.quick,
  warmupMs: options.quick ? 30 : 150,
  rounds: options.quick ? 2 : 6,
  roundMs: options.quick ? 30 : 200,
  batchTargetNs: 50_000,
  guardRailEvery: GUARD_RAIL_EVERY,
};

const progress = (message) => process.stderr.write(`${message}\n`);

function buildEngine(yaml, file, engineOptions) {
  const parsed = parsePolicy(yaml, { file });
  if (!parsed.ok) throw new Error(parsed.issues.map(formatIssue).join('\n'));
  const resolved = resolvePolicy(parsed.policy);
  if (!resolved.ok) throw new Error(resolved.issues.map(formatIssue).join('\n'));
  return createEngine([resolved.policy], engineOptions);
}

/** Aborts the run when a scenario does not decide what it claims to measure. */
function assertDecisions(engine, actions, expected, label) {
  for (const action of actions) {
    const decision = engine.evaluate(action);
    if (decision.type !== expected.type || decision.ruleId !== expected.ruleId) {
      const trace = engine.explain(action).rules.filter((rule) => rule.matched);
      throw new Error(
        `${label}: expected ${expected.type} (${expected.ruleId}) for ${action.resource}, got ` +
          `${decision.type} (${decision.ruleId}); matched: ${JSON.stringify(trace)}`,
      );
    }
  }
}

// Two loops with the same shape but their own code, so neither's call site sees the other's
// callee. The sum of ruleId lengths keeps the calls from being optimised away.
let blackhole = 0;
function engineRunner(engine, actions) {
  return (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += engine.evaluate(actions[i & 15]).ruleId.length;
    blackhole += sum;
  };
}
function mapRunner(map, actions) {
  const lookup = (action) => map.get(action.resource);
  return (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += lookup(actions[i & 15]).ruleId.length;
    blackhole += sum;
  };
}

/**
 * parsePolicy (YAML, validation, compiling regexes and globs), then resolvePolicy + createEngine.
 * The first build is reported apart: for the first size it includes loading the parser.
 */
function measureCompile(size, yaml) {
  const file = `bench-${size}.yaml`;
  const started = process.hrtime.bigint();
  buildEngine(yaml, file);
  const firstMs = Number(process.hrtime.bigint() - started) / 1e6;
  for (let i = 0; i < 2; i++) buildEngine(yaml, file);
  const parse = [];
  const engine = [];
  for (let i = 0; i < COMPILE_REPEATS[size]; i++) {
    const start = process.hrtime.bigint();
    const parsed = parsePolicy(yaml, { file });
    const middle = process.hrtime.bigint();
    createEngine([resolvePolicy(parsed.policy).policy]);
    const end = process.hrtime.bigint();
    parse.push(Number(middle - start) / 1e6);
    engine.push(Number(end - middle) / 1e6);
  }
  const parseMs = median(parse);
  const engineMs = median(engine);
  return {
    rules: size,
    yamlBytes: Buffer.byteLength(yaml),
    parseMs,
    engineMs,
    totalMs: median(parse.map((ms, i) => ms + engine[i])),
    firstMs,
  };
}

/**
 * Heap retained per engine, built from YAML text that is dropped afterwards. Small policies are
 * built many times over so the difference stands out of the heap's noise.
 */
const kept = [];
function measureHeap(size) {
  if (typeof globalThis.gc !== 'function') return undefined;
  const copies = Math.max(2, Math.round(1000 / size));
  const collect = () => {
    globalThis.gc();
    globalThis.gc();
  };
  collect();
  const before = process.memoryUsage().heapUsed;
  for (let copy = 0; copy < copies; copy++) {
    kept.push(buildEngine(generatePolicy(size, seed).yaml, `bench-${size}.yaml`));
  }
  collect();
  const bytes = (process.memoryUsage().heapUsed - before) / copies;
  kept.length = 0;
  return { rules: size, bytes };
}

function main() {
  const startedAt = process.hrtime.bigint();
  const machine = machineFacts();
  progress(`kvlar bench: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`);

  const oneRule = buildEngine(
    [
      'name: bench-1',
      'version: "1.0"',
      'rules:',
      '  - id: only',
      "    match_on: { resources: ['read_file_0'] }",
      '    effect: { type: allow }',
    ].join('\n'),
    'bench-1.yaml',
  );
  const baselineActions = actionsFor('read_file_0');
  assertDecisions(oneRule, baselineActions, { type: 'allow', ruleId: 'only' }, '1-rule');
  const floorMap = new Map([['read_file_0', oneRule.evaluate(baselineActions[0])]]);

  const cases = [
    {
      kind: 'baseline',
      name: 'floor: Map lookup + call',
      run: mapRunner(floorMap, baselineActions),
    },
    { kind: 'baseline', name: '1-rule policy, warm', run: engineRunner(oneRule, baselineActions) },
  ];
  const compile = [];
  const heap = [];
  for (const size of SIZES) {
    const { yaml, kinds, scenarios } = generatePolicy(size, seed);
    progress(`  ${size} rules: ${JSON.stringify(kinds)}`);
    compile.push({ ...measureCompile(size, yaml), kinds });
    const retained = measureHeap(size);
    if (retained !== undefined) heap.push(retained);
    for (const path of ['warm', 'cold']) {
      const engine = buildEngine(
        yaml,
        `bench-${size}.yaml`,
        path === 'cold' ? { cacheSize: 0 } : {},
      );
      for (const scenario of scenarios) {
        const actions = actionsFor(scenario.tool);
        assertDecisions(engine, actions, scenario.expected, `${size} rules ${scenario.position}`);
        cases.push({
          kind: 'scenario',
          rules: size,
          position: scenario.position,
          path,
          nameMatches: scenario.nameMatches,
          decision: scenario.expected,
          run: engineRunner(engine, actions),
        });
      }
    }
  }

  progress(
    `  timing ${cases.length} cases: ${settings.rounds} rounds of ${settings.roundMs} ms each`,
  );
  const batchSizeOf = (run) => Math.max(1, Math.round(settings.batchTargetNs / calibrate(run)));
  for (const entry of cases) {
    warmUp(entry.run, batchSizeOf(entry.run), settings.warmupMs * 1e6);
    entry.batchSize = batchSizeOf(entry.run);
    entry.samples = [];
  }
  // Rounds interleave the cases, so a slow minute of the machine spreads over all of them.
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const entry = cases[(k + round) % cases.length];
      sample(entry.run, entry.batchSize, settings.roundMs * 1e6, entry.samples);
    }
    progress(`  round ${round + 1}/${settings.rounds} done`);
  }

  const baselines = cases
    .filter((entry) => entry.kind === 'baseline')
    .map((entry) => ({ name: entry.name, ...summarize(entry.samples) }));
  const [floor, single] = baselines;
  const results = cases
    .filter((entry) => entry.kind === 'scenario')
    .map(({ kind, run, samples, ...entry }) => {
      const stats = summarize(samples);
      return {
        ...entry,
        ...stats,
        vsFloor: stats.medianNs / floor.medianNs,
        vsOneRule: stats.medianNs / single.medianNs,
      };
    });
  const targets = TARGETS.flatMap(({ rules, limitNs }) =>
    ['warm', 'cold'].map((path) => {
      const worst = Math.max(
        ...results.filter((r) => r.rules === rules && r.path === path).map((r) => r.medianNs),
      );
      return { rules, path, limitNs, worstMedianNs: worst, met: worst <= limitNs };
    }),
  );

  machine.loadAverageAtEnd = Number(os.loadavg()[0].toFixed(2));
  const durationS = Number((Number(process.hrtime.bigint() - startedAt) / 1e9).toFixed(1));
  const report = { machine, settings, durationS, baselines, results, compile, heap, targets };
  if (blackhole === -1) progress('unreachable');
  process.stdout.write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`,
  );
}

try {
  main();
} catch (error) {
  progress(`bench aborted: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
